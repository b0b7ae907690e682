-- The sender's W3C traceparent, continued on the deliveries' outbound calls.
ALTER TABLE events ADD COLUMN traceparent text;
