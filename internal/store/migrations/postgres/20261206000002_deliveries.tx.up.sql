-- The durable send queue (internal/notify.Worker): mail and texts written
-- in the transaction of the change that causes them, delivered later with
-- retries. A claimed row carries a lease; a crashed worker's rows come back
-- once it expires. Bodies are blanked once a row is sent or dead.
CREATE TABLE deliveries (
    id              text PRIMARY KEY,
    app_id          text NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    channel         text NOT NULL,
    to_addr         text NOT NULL,
    from_addr       text NOT NULL DEFAULT '',
    subject         text NOT NULL DEFAULT '',
    text_body       text NOT NULL DEFAULT '',
    html_body       text NOT NULL DEFAULT '',
    state           text NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    lease_until     timestamptz,
    last_error      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz,
    sent_at         timestamptz
);

--bun:split

CREATE INDEX deliveries_due_idx ON deliveries (next_attempt_at) WHERE state = 'pending';

--bun:split

CREATE INDEX deliveries_app_state_idx ON deliveries (app_id, state, created_at);
