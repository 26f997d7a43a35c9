-- The first schema. The SQLite twin in ../sqlite has the same tables,
-- columns and indexes; keep them in step.

CREATE TABLE apps (
    id         text PRIMARY KEY,
    name       text NOT NULL,
    settings   jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

--bun:split

CREATE TABLE app_members (
    app_id       text NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    developer_id text NOT NULL,
    role         text NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (app_id, developer_id)
);

--bun:split

CREATE INDEX app_members_developer_id_idx ON app_members (developer_id);

--bun:split

CREATE TABLE users (
    id             text PRIMARY KEY,
    app_id         text NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    email          text,
    user_name      text,
    user_name_key  text,
    phone          text NOT NULL DEFAULT '',
    phone_verified boolean NOT NULL DEFAULT false,
    metadata       jsonb,
    locale         text NOT NULL DEFAULT '',
    status         text NOT NULL,
    two_factor     text NOT NULL,
    anonymous      boolean NOT NULL DEFAULT false,
    password_hash  text,
    failed_logins  integer NOT NULL DEFAULT 0,
    locked_until   timestamptz,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    last_login_at  timestamptz
);

--bun:split

CREATE UNIQUE INDEX users_app_id_email_key ON users (app_id, email) WHERE email IS NOT NULL;

--bun:split

CREATE UNIQUE INDEX users_app_id_user_name_key_key ON users (app_id, user_name_key) WHERE user_name_key IS NOT NULL;

--bun:split

CREATE INDEX users_app_id_created_at_idx ON users (app_id, created_at);

--bun:split

CREATE TABLE codes (
    id         text PRIMARY KEY,
    app_id     text NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    purpose    text NOT NULL,
    handle     text NOT NULL,
    hash       text NOT NULL,
    attempts   integer NOT NULL DEFAULT 0,
    payload    bytea,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);

--bun:split

CREATE UNIQUE INDEX codes_app_id_purpose_handle_key ON codes (app_id, purpose, handle);

--bun:split

CREATE TABLE sessions (
    id            text PRIMARY KEY,
    app_id        text NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    user_id       text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    revoke_reason text NOT NULL DEFAULT ''
);

--bun:split

CREATE INDEX sessions_app_id_idx ON sessions (app_id);

--bun:split

CREATE INDEX sessions_user_id_idx ON sessions (user_id);

--bun:split

CREATE TABLE refresh_tokens (
    id         text PRIMARY KEY,
    app_id     text NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    session_id text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    parent_id  text,
    hash       text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    rotated_at timestamptz
);

--bun:split

CREATE UNIQUE INDEX refresh_tokens_hash_key ON refresh_tokens (hash);

--bun:split

CREATE INDEX refresh_tokens_app_id_idx ON refresh_tokens (app_id);

--bun:split

CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);

--bun:split

CREATE TABLE audit_events (
    id          text PRIMARY KEY,
    app_id      text NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    action      text NOT NULL,
    outcome     text NOT NULL,
    actor_id    text NOT NULL DEFAULT '',
    subject_id  text NOT NULL DEFAULT '',
    ip          text NOT NULL DEFAULT '',
    reason      text NOT NULL DEFAULT '',
    details     jsonb,
    occurred_at timestamptz NOT NULL
);

--bun:split

CREATE INDEX audit_events_app_id_occurred_at_idx ON audit_events (app_id, occurred_at);

--bun:split

CREATE TABLE signing_keys (
    app_id             text NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    kid                text NOT NULL,
    algorithm          text NOT NULL,
    backend            text NOT NULL,
    backend_ref        text NOT NULL DEFAULT '',
    state              text NOT NULL,
    public_key_pem     text NOT NULL,
    sealed_private_key bytea,
    created_at         timestamptz NOT NULL,
    deactivated_at     timestamptz,
    retire_at          timestamptz,
    PRIMARY KEY (app_id, kid)
);

--bun:split

CREATE TABLE outbox_messages (
    id        text PRIMARY KEY,
    app_id    text NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    channel   text NOT NULL,
    to_addr   text NOT NULL,
    subject   text NOT NULL DEFAULT '',
    text_body text NOT NULL DEFAULT '',
    html_body text NOT NULL DEFAULT '',
    sent_at   timestamptz NOT NULL
);

--bun:split

CREATE INDEX outbox_messages_app_id_sent_at_idx ON outbox_messages (app_id, sent_at);
