#!/usr/bin/env bash
# Installs what the WordPress plugin's tests need, from Debian's packages
# only, and starts MariaDB when nothing answers on 127.0.0.1:3306.
# Idempotent: installs only what is missing. Run as root:
#   bash wordpress/scripts/install-deps.sh
set -euo pipefail

step() { printf '\n==> %s\n' "$*"; }

# Debian package → a file that proves it is installed. dpkg-query is the
# truth; the file check keeps a second run from spawning dpkg at all.
declare -A wanted=(
    [php-cli]=/usr/bin/php
    [php-mysql]=/etc/php/*/mods-available/mysqli.ini
    [php-curl]=/etc/php/*/mods-available/curl.ini
    [php-xml]=/etc/php/*/mods-available/dom.ini
    [php-mbstring]=/etc/php/*/mods-available/mbstring.ini
    [phpunit]=/usr/bin/phpunit
    [wordpress]=/usr/share/wordpress/wp-settings.php
)

missing=()
for package in "${!wanted[@]}"; do
    # shellcheck disable=SC2086 # the glob in the proof path must expand
    if ! compgen -G ${wanted[$package]} >/dev/null \
        || ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$package")
    fi
done

mariadb_answers() {
    # Any answer, even "access denied", means a server is listening.
    (exec 3<>/dev/tcp/127.0.0.1/3306) 2>/dev/null
}

if ! mariadb_answers && ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
    missing+=(mariadb-server)
fi

if [ "${#missing[@]}" -gt 0 ]; then
    step "installing ${missing[*]}"
    apt-get update -qq
    # No recommends: the tests need no theme packages or translations.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! mariadb_answers; then
    step "starting MariaDB"
    mkdir -p /run/mysqld
    chown mysql:mysql /run/mysqld 2>/dev/null || true
    if [ ! -d /var/lib/mysql/mysql ]; then
        mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
    fi
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- \
        --user=mysql --bind-address=127.0.0.1 --port=3306
    for _ in $(seq 1 30); do
        mariadb_answers && break
        sleep 1
    done
    if ! mariadb_answers; then
        echo "MariaDB did not come up on 127.0.0.1:3306" >&2
        exit 1
    fi
fi

# The tests log in as root with an empty password and use the `test`
# database, as these machines have; create it where it is missing.
for _ in $(seq 1 30); do
    mariadb -h 127.0.0.1 -P 3306 -u root -e 'SELECT 1' >/dev/null 2>&1 && break
    sleep 1
done
mariadb -h 127.0.0.1 -P 3306 -u root -e 'CREATE DATABASE IF NOT EXISTS test' || {
    echo "cannot log in to MariaDB on 127.0.0.1:3306 as root with an empty password" >&2
    exit 1
}
