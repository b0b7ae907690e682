#!/usr/bin/env bash
# Where the ingest fast path on Postgres + Redis spends its time: CPU seconds
# per process (gateway, Postgres backends, Redis, load generator) over one
# load run at concurrency 16, then `perf` on the gateway if it is installed.
#   bash benches/profile-ingest.sh     # needs Postgres and Redis on 127.0.0.1
set -euo pipefail
cd "$(dirname "$0")/.."

SECRET="profile-secret-$(date +%s)-0123456789"
DB="${WP_BRIDGE_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/wp_bridge_test}"
REDIS="${WP_BRIDGE_TEST_REDIS_URL:-redis://127.0.0.1:6379}"
SCHEMA="wpb_prof_$(date +%s)"
N="${PROFILE_REQUESTS:-20000}"

cargo build --release -q -p wp-bridge-app -p loadgen
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    redis-cli -u "$REDIS" --scan --pattern "{$SCHEMA}:*" | xargs -r redis-cli -u "$REDIS" del >/dev/null 2>&1 || true
    psql "$DB" -qc "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1 || true
}
trap cleanup EXIT
DATABASE_URL="$DB" WP_BRIDGE_PG_SCHEMA="$SCHEMA" WP_BRIDGE_SECRETS="$SECRET" \
    REDIS_URL="$REDIS" WP_BRIDGE_REDIS_PREFIX="$SCHEMA" WP_BRIDGE_METRICS_LISTEN=off \
    WP_BRIDGE_LISTEN=127.0.0.1:18092 WP_BRIDGE_MAX_QUEUE_DEPTH=1000000 RUST_LOG=warn \
    target/release/wp-bridge serve >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18092/healthz >/dev/null && break; sleep 0.1; done

load() {
    WP_BRIDGE_SECRET="$SECRET" target/release/loadgen send --url http://127.0.0.1:18092/webhooks/wp \
        --label "$1" --concurrency 16 --requests "$2" --duplicates 10
}
# Clock ticks of user + system time of every process whose command matches.
ticks() {
    local total=0 p
    for p in $(pgrep -f "$1" || true); do
        [ -r "/proc/$p/stat" ] || continue
        total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat")))
    done
    echo "$total"
}
load warmup 1000 >/dev/null
names=("gateway:release/wp-bridge serve" "postgres:^postgres" "redis:redis-server")
declare -A before
for n in "${names[@]}"; do before[${n%%:*}]=$(ticks "${n#*:}"); done
start=$(date +%s.%N)
load profile "$N"
end=$(date +%s.%N)
hz=$(getconf CLK_TCK)
echo "CPU seconds over $(python3 -c "print(round($end - $start, 2))") s of load at concurrency 16:"
for n in "${names[@]}"; do
    k=${n%%:*}
    python3 -c "print(f'  {\"$k\":9} {($(ticks "${n#*:}") - ${before[$k]}) / $hz:.2f}')"
done
if command -v perf >/dev/null; then
    perf record -q -F 999 -g -p "$pid" -o /tmp/wp-bridge-ingest.perf -- sleep 8 >/dev/null 2>&1 &
    rec=$!
    load perf "$N" >/dev/null || true
    wait "$rec" || true
    echo "gateway CPU by library:"
    perf report -i /tmp/wp-bridge-ingest.perf --no-children -g none --sort dso --stdio 2>/dev/null | grep "%" | head -8
    echo "top symbols:"
    perf report -i /tmp/wp-bridge-ingest.perf --no-children -g none --sort sym --stdio 2>/dev/null | grep "%" | head -15
fi
