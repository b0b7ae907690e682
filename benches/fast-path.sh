#!/usr/bin/env bash
# The ingest fast path: throughput and p50/p99 of POST /webhooks/wp at
# concurrency 1, 16 and 64, for a bare axum handler (the baseline), the
# in-memory quick start and `wp-bridge all` on Postgres + Redis — all in the
# same run, with 10 % of requests repeating an earlier event (a sender retry).
#   bash benches/fast-path.sh     # needs Postgres and Redis on 127.0.0.1
set -euo pipefail
cd "$(dirname "$0")/.."

SECRET="fast-path-secret-$(date +%s)-0123456789"
DB="${WP_BRIDGE_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/wp_bridge_test}"
REDIS="${WP_BRIDGE_TEST_REDIS_URL:-redis://127.0.0.1:6379}"
SCHEMA="wpb_fast_$(date +%s)"
N1="${FAST_REQUESTS_C1:-1000}"
NN="${FAST_REQUESTS_CN:-10000}"

cargo build --release -q -p quickstart -p wp-bridge-app -p loadgen
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    redis-cli -u "$REDIS" --scan --pattern "{$SCHEMA}:*" | xargs -r redis-cli -u "$REDIS" del >/dev/null 2>&1 || true
    psql "$DB" -qc "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1 || true
}
trap cleanup EXIT

target/release/loadgen bare --listen 127.0.0.1:18070 &
pids+=($!)
WP_BRIDGE_SECRET="$SECRET" WP_BRIDGE_LISTEN=127.0.0.1:18080 RUST_LOG=warn \
    target/release/quickstart >/dev/null 2>&1 &
pids+=($!)
DATABASE_URL="$DB" WP_BRIDGE_PG_SCHEMA="$SCHEMA" WP_BRIDGE_SECRETS="$SECRET" \
    REDIS_URL="$REDIS" WP_BRIDGE_REDIS_PREFIX="$SCHEMA" WP_BRIDGE_METRICS_LISTEN=off \
    WP_BRIDGE_LISTEN=127.0.0.1:18082 WP_BRIDGE_MAX_QUEUE_DEPTH=1000000 RUST_LOG=warn \
    target/release/wp-bridge all >/dev/null 2>&1 &
pids+=($!)
for port in 18070 18080 18082; do
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
        sleep 0.1
    done
done

load() {
    WP_BRIDGE_SECRET="$SECRET" target/release/loadgen send --url "http://127.0.0.1:$1/webhooks/wp" \
        --label "$2" --concurrency "$3" --requests "$4" --duplicates 10
}
for port in 18070 18080 18082; do load "$port" warmup 8 500 >/dev/null; done
results=$(mktemp)
for c in 1 16 64; do
    n=$([ "$c" = 1 ] && echo "$N1" || echo "$NN")
    load 18070 bare "$c" "$n" | tee -a "$results"
    load 18080 memory "$c" "$n" | tee -a "$results"
    load 18082 postgres+redis "$c" "$n" | tee -a "$results"
done
python3 - "$results" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
base = {r["concurrency"]: r for r in rows if r["label"] == "bare"}
print("\n| target | concurrency | req/s | p50 ms | p99 ms | req/s ÷ bare |")
print("|---|---:|---:|---:|---:|---:|")
for r in rows:
    b = base[r["concurrency"]]
    print(f'| {r["label"]} | {r["concurrency"]} | {r["requests_per_second"]:.0f} | {r["p50_ms"]:.3f} | {r["p99_ms"]:.3f} | {r["requests_per_second"] / b["requests_per_second"]:.3f} |')
PY
