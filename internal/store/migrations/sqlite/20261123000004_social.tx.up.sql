-- Sign in with Apple and Google. The Postgres twin in ../postgres has the
-- same tables, columns and indexes; keep them in step.
--
-- A social identity is keyed by the provider and its subject for the person,
-- never by email: one per (app, provider, subject), one per user and provider.
CREATE TABLE user_identities (
    id           TEXT PRIMARY KEY,
    app_id       TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider     TEXT NOT NULL,
    subject      TEXT NOT NULL,
    email        TEXT NOT NULL DEFAULT '',
    given_name   TEXT NOT NULL DEFAULT '',
    family_name  TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    last_used_at TEXT
) STRICT;

--bun:split

CREATE UNIQUE INDEX user_identities_app_id_provider_subject_key ON user_identities (app_id, provider, subject);

--bun:split

CREATE UNIQUE INDEX user_identities_user_id_provider_key ON user_identities (user_id, provider);

--bun:split

-- The nonces of ID tokens already used, kept until the token expires, so a
-- token is accepted once across every replica.
CREATE TABLE social_nonces (
    app_id     TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    provider   TEXT NOT NULL,
    nonce_hash TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (app_id, provider, nonce_hash)
) STRICT;

--bun:split

CREATE INDEX social_nonces_app_id_expires_at_idx ON social_nonces (app_id, expires_at);
