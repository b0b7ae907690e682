#!/usr/bin/env bash
# Ingest load on loopback: POST /webhooks/wp against the in-memory quick start
# and the Postgres gateway, at concurrency 1 and 64, in the same run.
#
#   bash benches/ingest-load.sh            # needs Postgres on 127.0.0.1:5432
#
# Each gateway runs its worker in the same process (delivering to stdout,
# discarded), as deployed in the quick start and the Postgres example.
set -euo pipefail
cd "$(dirname "$0")/.."

SECRET="load-test-secret-$(date +%s)-0123456789"
DB="${WP_BRIDGE_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/wp_bridge_test}"
SCHEMA="wpb_load_$(date +%s)"
ONE="${LOAD_REQUESTS_C1:-2000}"
MANY="${LOAD_REQUESTS_C64:-20000}"

cargo build --release -q -p quickstart -p postgres-gateway -p loadgen
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    psql "$DB" -qc "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1 || true
}
trap cleanup EXIT

WP_BRIDGE_SECRET="$SECRET" WP_BRIDGE_LISTEN=127.0.0.1:18080 RUST_LOG=warn \
    target/release/quickstart >/dev/null 2>&1 &
pids+=($!)
DATABASE_URL="$DB" WP_BRIDGE_PG_SCHEMA="$SCHEMA" WP_BRIDGE_SECRET="$SECRET" \
    WP_BRIDGE_LISTEN=127.0.0.1:18081 RUST_LOG=warn \
    target/release/postgres-gateway >/dev/null 2>&1 &
pids+=($!)
for port in 18080 18081; do
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
        sleep 0.1
    done
done

load() {
    WP_BRIDGE_SECRET="$SECRET" target/release/loadgen --url "http://127.0.0.1:$1/webhooks/wp" \
        --label "$2" --concurrency "$3" --requests "$4"
}
# Warm-up, not reported.
load 18080 warmup 8 500 >/dev/null
load 18081 warmup 8 500 >/dev/null
load 18080 memory 1 "$ONE"
load 18081 postgres 1 "$ONE"
load 18080 memory 64 "$MANY"
load 18081 postgres 64 "$MANY"
