-- Every replay and discard of dead letters: who, when, why, which filter, how many.
CREATE TABLE dead_letter_audit (
    id     bigserial   PRIMARY KEY,
    at     timestamptz NOT NULL,
    action text        NOT NULL CHECK (action IN ('replay', 'discard')),
    actor  text        NOT NULL,
    reason text        NOT NULL,
    filter text,
    count  bigint      NOT NULL,
    keys   jsonb       NOT NULL  -- [[event_id, sink], …] as selected
);
CREATE INDEX dead_letter_audit_at ON dead_letter_audit (at DESC);
