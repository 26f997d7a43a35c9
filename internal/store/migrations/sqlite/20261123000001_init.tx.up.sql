-- The first schema. The Postgres twin in ../postgres has the same tables,
-- columns and indexes; keep them in step.
--
-- SQLite types: timestamps are TEXT in bun's UTC form
-- '2006-01-02 15:04:05.999999+00:00', which sorts in time order; booleans are
-- INTEGER 0 or 1; JSON is TEXT; bytes are BLOB. Tables are STRICT so a value of
-- the wrong type fails instead of being stored.

CREATE TABLE apps (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    settings   TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

--bun:split

CREATE TABLE app_members (
    app_id       TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    developer_id TEXT NOT NULL,
    role         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (app_id, developer_id)
) STRICT;

--bun:split

CREATE INDEX app_members_developer_id_idx ON app_members (developer_id);

--bun:split

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    app_id         TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    email          TEXT,
    user_name      TEXT,
    user_name_key  TEXT,
    phone          TEXT NOT NULL DEFAULT '',
    phone_verified INTEGER NOT NULL DEFAULT 0,
    metadata       TEXT,
    locale         TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL,
    two_factor     TEXT NOT NULL,
    anonymous      INTEGER NOT NULL DEFAULT 0,
    password_hash  TEXT,
    failed_logins  INTEGER NOT NULL DEFAULT 0,
    locked_until   TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    last_login_at  TEXT
) STRICT;

--bun:split

CREATE UNIQUE INDEX users_app_id_email_key ON users (app_id, email) WHERE email IS NOT NULL;

--bun:split

CREATE UNIQUE INDEX users_app_id_user_name_key_key ON users (app_id, user_name_key) WHERE user_name_key IS NOT NULL;

--bun:split

CREATE INDEX users_app_id_created_at_idx ON users (app_id, created_at);

--bun:split

CREATE TABLE codes (
    id         TEXT PRIMARY KEY,
    app_id     TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,
    handle     TEXT NOT NULL,
    hash       TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    payload    BLOB,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT;

--bun:split

CREATE UNIQUE INDEX codes_app_id_purpose_handle_key ON codes (app_id, purpose, handle);

--bun:split

CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    app_id        TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    revoked_at    TEXT,
    revoke_reason TEXT NOT NULL DEFAULT ''
) STRICT;

--bun:split

CREATE INDEX sessions_app_id_idx ON sessions (app_id);

--bun:split

CREATE INDEX sessions_user_id_idx ON sessions (user_id);

--bun:split

CREATE TABLE refresh_tokens (
    id         TEXT PRIMARY KEY,
    app_id     TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    parent_id  TEXT,
    hash       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    rotated_at TEXT
) STRICT;

--bun:split

CREATE UNIQUE INDEX refresh_tokens_hash_key ON refresh_tokens (hash);

--bun:split

CREATE INDEX refresh_tokens_app_id_idx ON refresh_tokens (app_id);

--bun:split

CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);

--bun:split

CREATE TABLE audit_events (
    id          TEXT PRIMARY KEY,
    app_id      TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    action      TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    actor_id    TEXT NOT NULL DEFAULT '',
    subject_id  TEXT NOT NULL DEFAULT '',
    ip          TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL DEFAULT '',
    details     TEXT,
    occurred_at TEXT NOT NULL
) STRICT;

--bun:split

CREATE INDEX audit_events_app_id_occurred_at_idx ON audit_events (app_id, occurred_at);

--bun:split

CREATE TABLE signing_keys (
    app_id             TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    kid                TEXT NOT NULL,
    algorithm          TEXT NOT NULL,
    backend            TEXT NOT NULL,
    backend_ref        TEXT NOT NULL DEFAULT '',
    state              TEXT NOT NULL,
    public_key_pem     TEXT NOT NULL,
    sealed_private_key BLOB,
    created_at         TEXT NOT NULL,
    deactivated_at     TEXT,
    retire_at          TEXT,
    PRIMARY KEY (app_id, kid)
) STRICT;

--bun:split

CREATE TABLE outbox_messages (
    id        TEXT PRIMARY KEY,
    app_id    TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    channel   TEXT NOT NULL,
    to_addr   TEXT NOT NULL,
    subject   TEXT NOT NULL DEFAULT '',
    text_body TEXT NOT NULL DEFAULT '',
    html_body TEXT NOT NULL DEFAULT '',
    sent_at   TEXT NOT NULL
) STRICT;

--bun:split

CREATE INDEX outbox_messages_app_id_sent_at_idx ON outbox_messages (app_id, sent_at);
