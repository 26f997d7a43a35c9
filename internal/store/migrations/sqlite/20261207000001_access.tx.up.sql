-- Teams and API keys (issue 12); the Postgres twin explains the tables.
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    app_id       TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    expires_at   TEXT,
    revoked_at   TEXT
) STRICT;

--bun:split

CREATE UNIQUE INDEX api_keys_hash_key ON api_keys (hash);

--bun:split

CREATE INDEX api_keys_app_id_created_at_idx ON api_keys (app_id, created_at);

--bun:split

CREATE TABLE member_invites (
    app_id        TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    email         TEXT NOT NULL,
    invitation_id TEXT NOT NULL,
    role          TEXT NOT NULL,
    invited_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (app_id, email)
) STRICT;

--bun:split

CREATE INDEX member_invites_email_idx ON member_invites (email);

--bun:split

CREATE UNIQUE INDEX member_invites_invitation_id_key ON member_invites (app_id, invitation_id);
