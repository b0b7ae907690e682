-- The event log: every accepted event, each sink's delivery, every attempt,
-- and the idempotency claims of the ingest path. See docs/postgres.md.

CREATE TABLE events (
    event_id       text PRIMARY KEY,
    event_type     text        NOT NULL,
    site           text        NOT NULL,
    payload        jsonb       NOT NULL,  -- the body as received, for queries
    raw            bytea       NOT NULL,  -- the exact signed bytes
    correlation_id text        NOT NULL,
    received_at    timestamptz NOT NULL,
    status         text        NOT NULL CHECK (status IN ('open', 'delivered', 'failed'))
);
CREATE INDEX events_received_at ON events (received_at);

CREATE TABLE deliveries (
    event_id         text        NOT NULL REFERENCES events (event_id) ON DELETE CASCADE,
    sink             text        NOT NULL,
    state            text        NOT NULL
        CHECK (state IN ('pending', 'in_flight', 'delivered', 'failed', 'dead', 'discarded')),
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    lease_until      timestamptz,
    last_error       text,
    last_status_code integer,
    last_failure_at  timestamptz,
    delivered_at     timestamptz,
    reference        text,
    output           jsonb,
    PRIMARY KEY (event_id, sink)
);
-- The reconciler's sweep: due deliveries and expired in-flight leases.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state IN ('pending', 'failed');
CREATE INDEX deliveries_in_flight ON deliveries (lease_until) WHERE state = 'in_flight';
-- The dead-letter listing, in cursor order.
CREATE INDEX deliveries_dead ON deliveries (last_failure_at, event_id COLLATE "C", sink COLLATE "C")
    WHERE state = 'dead';

CREATE TABLE delivery_attempts (
    id              bigserial   PRIMARY KEY,
    event_id        text        NOT NULL REFERENCES events (event_id) ON DELETE CASCADE,
    sink            text        NOT NULL,
    attempt         integer     NOT NULL,
    started_at      timestamptz NOT NULL,
    duration_us     bigint      NOT NULL,
    outcome         text        NOT NULL CHECK (outcome IN ('delivered', 'retry', 'dead')),
    status_code     integer,
    error           text,
    reference       text,
    output          jsonb,
    next_attempt_at timestamptz
);
CREATE INDEX delivery_attempts_event ON delivery_attempts (event_id, id);

CREATE TABLE idempotency_keys (
    event_id       text PRIMARY KEY,
    state          text NOT NULL CHECK (state IN ('claimed', 'completed')),
    lease_until    timestamptz,
    correlation_id text
);
