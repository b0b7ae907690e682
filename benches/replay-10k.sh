#!/usr/bin/env bash
# Time to replay 10,000 dead letters on Postgres + Redis with no rate limit:
# creates them in bulk with SQL, then `wp-bridge dlq replay --yes`.
#   bash benches/replay-10k.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DB="${WP_BRIDGE_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/wp_bridge_test}"
REDIS="${WP_BRIDGE_TEST_REDIS_URL:-redis://127.0.0.1:6379}"
N="${REPLAY_N:-10000}"
SCHEMA="wpb_replay_$(date +%s)"
cargo build --release -q -p wp-bridge-app
cleanup() {
    psql "$DB" -qc "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1 || true
    redis-cli -u "$REDIS" --scan --pattern "{$SCHEMA}:*" | xargs -r redis-cli -u "$REDIS" del >/dev/null 2>&1 || true
}
trap cleanup EXIT
run() {
    env DATABASE_URL="$DB" WP_BRIDGE_PG_SCHEMA="$SCHEMA" REDIS_URL="$REDIS" WP_BRIDGE_REDIS_PREFIX="$SCHEMA" \
        RUST_LOG=warn target/release/wp-bridge "$@"
}
run dlq stats --json >/dev/null  # migrates the new schema
body='{"event":"comment.created","event_id":"ID","site":"https://blog.example","data":{"id":1,"post_id":2,"author":{"name":"Ada"},"content":"Hi","created_at":"2026-12-04T10:00:00Z"}}'
psql "$DB" -q <<SQL
SET search_path TO $SCHEMA;
INSERT INTO events (event_id, event_type, site, payload, raw, correlation_id, received_at, status)
SELECT 'replay-' || g, 'comment.created', 'https://blog.example',
       replace('$body', 'ID', 'replay-' || g)::jsonb, convert_to(replace('$body', 'ID', 'replay-' || g), 'UTF8'),
       'corr-' || g, now(), 'failed'
FROM generate_series(1, $N) g;
INSERT INTO deliveries (event_id, sink, state, attempts, last_error, last_status_code, last_failure_at)
SELECT 'replay-' || g, 'slack', 'dead', 8, 'channel_is_archived', 410, now() - (g || ' ms')::interval
FROM generate_series(1, $N) g;
SQL
run dlq stats --json
start=$(date +%s.%N)
run dlq replay --sink slack --yes --reason "bench"
end=$(date +%s.%N)
echo "{\"dead_letters\": $N, \"replay_seconds\": $(python3 -c "print(round($end - $start, 3))"), \"queued\": $(redis-cli -u "$REDIS" llen "{$SCHEMA}:ready")}"
