-- Sign in with Apple and Google. The SQLite twin in ../sqlite has the same
-- tables, columns and indexes; keep them in step.
--
-- A social identity is keyed by the provider and its subject for the person,
-- never by email: one per (app, provider, subject), one per user and provider.
CREATE TABLE user_identities (
    id           text PRIMARY KEY,
    app_id       text NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    user_id      text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider     text NOT NULL,
    subject      text NOT NULL,
    email        text NOT NULL DEFAULT '',
    given_name   text NOT NULL DEFAULT '',
    family_name  text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz
);

--bun:split

CREATE UNIQUE INDEX user_identities_app_id_provider_subject_key ON user_identities (app_id, provider, subject);

--bun:split

CREATE UNIQUE INDEX user_identities_user_id_provider_key ON user_identities (user_id, provider);

--bun:split

-- The nonces of ID tokens already used, kept until the token expires, so a
-- token is accepted once across every replica.
CREATE TABLE social_nonces (
    app_id     text NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    provider   text NOT NULL,
    nonce_hash text NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (app_id, provider, nonce_hash)
);

--bun:split

CREATE INDEX social_nonces_app_id_expires_at_idx ON social_nonces (app_id, expires_at);
