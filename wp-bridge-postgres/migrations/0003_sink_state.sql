-- Small state sinks keep between calls: a HubSpot note id per event, an
-- OpenAI enrichment per content hash.
CREATE TABLE sink_state (
    scope      text        NOT NULL,
    key        text        NOT NULL,
    value      text        NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
