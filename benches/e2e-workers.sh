#!/usr/bin/env bash
# End-to-end throughput: POST to the gateway → Redis → N worker processes →
# a webhook receiver, with 1 and 3 workers, in the same run.
#
#   bash benches/e2e-workers.sh     # needs Postgres and Redis on 127.0.0.1
set -euo pipefail
cd "$(dirname "$0")/.."

SECRET="e2e-secret-$(date +%s)-0123456789"
DB="${WP_BRIDGE_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/wp_bridge_test}"
REDIS="${WP_BRIDGE_TEST_REDIS_URL:-redis://127.0.0.1:6379}"
EVENTS="${E2E_EVENTS:-2000}"

cargo build --release -q -p wp-bridge-app -p loadgen
pids=()
schemas=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for schema in "${schemas[@]}"; do
        psql "$DB" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
        redis-cli -u "$REDIS" --scan --pattern "{$schema}:*" | xargs -r redis-cli -u "$REDIS" del >/dev/null 2>&1 || true
    done
}
trap cleanup EXIT

for workers in 1 3; do
    schema="wpb_e2e_$(date +%s)_$workers"
    schemas+=("$schema")
    common=(env DATABASE_URL="$DB" WP_BRIDGE_PG_SCHEMA="$schema" WP_BRIDGE_SECRETS="$SECRET"
        REDIS_URL="$REDIS" WP_BRIDGE_REDIS_PREFIX="$schema" WP_BRIDGE_LISTEN=127.0.0.1:18090
        WP_BRIDGE_WEBHOOK_URL=http://127.0.0.1:18099/hook WP_BRIDGE_MAX_QUEUE_DEPTH=1000000 RUST_LOG=warn
        WP_BRIDGE_METRICS_LISTEN=off)
    target/release/loadgen receive --listen 127.0.0.1:18099 --expect "$EVENTS" > "/tmp/wpb-e2e-$workers.json" &
    receiver=$!
    "${common[@]}" target/release/wp-bridge serve >/dev/null 2>&1 &
    pids+=($!)
    for _ in $(seq 1 "$workers"); do
        "${common[@]}" target/release/wp-bridge worker >/dev/null 2>&1 &
        pids+=($!)
    done
    for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18090/healthz >/dev/null && break; sleep 0.1; done
    start=$(date +%s.%N)
    WP_BRIDGE_SECRET="$SECRET" target/release/loadgen send --url http://127.0.0.1:18090/webhooks/wp \
        --requests "$EVENTS" --concurrency 32 --label "send-$workers-workers" >/dev/null
    wait "$receiver"
    end=$(date +%s.%N)
    python3 - "$workers" "$EVENTS" "$start" "$end" "/tmp/wpb-e2e-$workers.json" <<'PY'
import json, sys
workers, events, start, end, path = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
seen = json.load(open(path))
wall = end - start
print(json.dumps({"workers": workers, "events": events, "post_to_last_receipt_s": round(wall, 3),
                  "events_per_s": round(events / wall), "receiver": seen}))
PY
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    pids=()
    sleep 1
done
