#!/usr/bin/env bash
# Ingest load on loopback: POST /webhooks/wp against the in-memory quick start,
# `wp-bridge all` on Postgres (in-memory queue) and on Postgres + Redis, at
# concurrency 1 and 64, in the same run.
#
#   bash benches/ingest-load.sh     # needs Postgres and Redis on 127.0.0.1
#
# Each gateway runs its worker in the same process (delivering to stdout,
# discarded), so the figures include the delivery work the machine also does.
set -euo pipefail
cd "$(dirname "$0")/.."

SECRET="load-test-secret-$(date +%s)-0123456789"
DB="${WP_BRIDGE_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/wp_bridge_test}"
SCHEMA="wpb_load_$(date +%s)"
ONE="${LOAD_REQUESTS_C1:-2000}"
MANY="${LOAD_REQUESTS_C64:-20000}"

REDIS="${WP_BRIDGE_TEST_REDIS_URL:-redis://127.0.0.1:6379}"
cargo build --release -q -p quickstart -p wp-bridge-app -p loadgen
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    redis-cli -u "$REDIS" --scan --pattern "{$SCHEMA}:*" | xargs -r redis-cli -u "$REDIS" del >/dev/null 2>&1 || true
    psql "$DB" -qc "DROP SCHEMA IF EXISTS ${SCHEMA}_pg CASCADE; DROP SCHEMA IF EXISTS ${SCHEMA}_redis CASCADE" >/dev/null 2>&1 || true
}
trap cleanup EXIT

WP_BRIDGE_SECRET="$SECRET" WP_BRIDGE_LISTEN=127.0.0.1:18080 RUST_LOG=warn \
    target/release/quickstart >/dev/null 2>&1 &
pids+=($!)
DATABASE_URL="$DB" WP_BRIDGE_PG_SCHEMA="${SCHEMA}_pg" WP_BRIDGE_SECRETS="$SECRET" \
    WP_BRIDGE_LISTEN=127.0.0.1:18081 WP_BRIDGE_MAX_QUEUE_DEPTH=1000000 RUST_LOG=warn WP_BRIDGE_METRICS_LISTEN=off \
    target/release/wp-bridge all >/dev/null 2>&1 &
pids+=($!)
DATABASE_URL="$DB" WP_BRIDGE_PG_SCHEMA="${SCHEMA}_redis" WP_BRIDGE_SECRETS="$SECRET" \
    REDIS_URL="$REDIS" WP_BRIDGE_REDIS_PREFIX="$SCHEMA" \
    WP_BRIDGE_LISTEN=127.0.0.1:18082 WP_BRIDGE_MAX_QUEUE_DEPTH=1000000 RUST_LOG=warn WP_BRIDGE_METRICS_LISTEN=off \
    target/release/wp-bridge all >/dev/null 2>&1 &
pids+=($!)
for port in 18080 18081 18082; do
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
        sleep 0.1
    done
done

load() {
    WP_BRIDGE_SECRET="$SECRET" target/release/loadgen send --url "http://127.0.0.1:$1/webhooks/wp" \
        --label "$2" --concurrency "$3" --requests "$4"
}
# Warm-up, not reported.
for port in 18080 18081 18082; do load "$port" warmup 8 500 >/dev/null; done
load 18080 memory 1 "$ONE"
load 18081 postgres 1 "$ONE"
load 18082 postgres+redis 1 "$ONE"
load 18080 memory 64 "$MANY"
load 18081 postgres 64 "$MANY"
load 18082 postgres+redis 64 "$MANY"
