-- Teams and API keys (issue 12). api_keys: an application's keys for
-- scripts and backends, found by the SHA-256 hex of their secret (the
-- secret itself is never stored). member_invites: memberships waiting for
-- the invited person to accept their console invitation; one per app and
-- email, turned into app_members rows when they register.
CREATE TABLE api_keys (
    id           text        PRIMARY KEY,
    app_id       text        NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    name         text        NOT NULL,
    role         text        NOT NULL,
    prefix       text        NOT NULL,
    hash         text        NOT NULL,
    created_by   text        NOT NULL,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    expires_at   timestamptz,
    revoked_at   timestamptz
);

--bun:split

CREATE UNIQUE INDEX api_keys_hash_key ON api_keys (hash);

--bun:split

CREATE INDEX api_keys_app_id_created_at_idx ON api_keys (app_id, created_at);

--bun:split

CREATE TABLE member_invites (
    app_id        text        NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    email         text        NOT NULL,
    invitation_id text        NOT NULL,
    role          text        NOT NULL,
    invited_by    text        NOT NULL,
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (app_id, email)
);

--bun:split

CREATE INDEX member_invites_email_idx ON member_invites (email);

--bun:split

CREATE UNIQUE INDEX member_invites_invitation_id_key ON member_invites (app_id, invitation_id);
