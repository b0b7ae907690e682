#!/usr/bin/env bash
# Runs every test of the WordPress plugin and exits non-zero on any failure:
#   1. php -l on every plugin file,
#   2. the PHPUnit unit tests (payloads, signing against
#      testdata/signature-vectors.json, delivery rules),
#   3. the end-to-end test: a real WordPress (Debian's package) on MariaDB
#      with the plugin, served by `php -S`, sending to the real quick start
#      gateway, whose worker delivers to a fake Slack.
# Needs what wordpress/scripts/install-deps.sh installs, and cargo.
#   bash wordpress/tests/run.sh
# WP_BRIDGE_QUICKSTART=/path/to/quickstart skips the cargo build.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

step() { printf '\n==> %s\n' "$*"; }

for tool in php phpunit; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "$tool is missing: run bash wordpress/scripts/install-deps.sh first" >&2
        exit 1
    fi
done

step "php -l wordpress/"
lint_failed=0
while IFS= read -r -d '' file; do
    if ! out=$(php -l "$file" 2>&1); then
        echo "$out" >&2
        lint_failed=1
    fi
done < <(find wordpress -name '*.php' -print0)
[ "$lint_failed" -eq 0 ] || exit 1

step "phpunit: unit tests"
phpunit -c "$here/phpunit.xml.dist" --testsuite unit

if [ -z "${WP_BRIDGE_QUICKSTART:-}" ]; then
    step "cargo build: the quick start gateway"
    # The same packages and features as `cargo test --workspace
    # --all-features`, so after the Rust tests this reuses their build.
    cargo build --workspace --all-features --bin quickstart
    target_dir=$(cargo metadata --format-version 1 --no-deps | php -r 'echo json_decode(stream_get_contents(STDIN), true)["target_directory"];')
    WP_BRIDGE_QUICKSTART="$target_dir/debug/quickstart"
fi
export WP_BRIDGE_QUICKSTART

step "phpunit: end-to-end test in a real WordPress"
# The test stops what it starts; timeout is the backstop if it hangs.
timeout --kill-after=10 600 phpunit -c "$here/phpunit.xml.dist" --testsuite e2e
