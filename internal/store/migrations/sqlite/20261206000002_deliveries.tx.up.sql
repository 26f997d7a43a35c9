-- The durable send queue (internal/notify.Worker): mail and texts written
-- in the transaction of the change that causes them, delivered later with
-- retries. A claimed row carries a lease; a crashed worker's rows come back
-- once it expires. Bodies are blanked once a row is sent or dead.
CREATE TABLE deliveries (
    id              TEXT PRIMARY KEY,
    app_id          TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    channel         TEXT NOT NULL,
    to_addr         TEXT NOT NULL,
    from_addr       TEXT NOT NULL DEFAULT '',
    subject         TEXT NOT NULL DEFAULT '',
    text_body       TEXT NOT NULL DEFAULT '',
    html_body       TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    lease_until     TEXT,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    expires_at      TEXT,
    sent_at         TEXT
) STRICT;

--bun:split

CREATE INDEX deliveries_due_idx ON deliveries (next_attempt_at) WHERE state = 'pending';

--bun:split

CREATE INDEX deliveries_app_state_idx ON deliveries (app_id, state, created_at);
