-- Second factors: authenticator (TOTP) secrets, recovery codes, the login
-- tokens of challenged logins, and one verified phone number per app.
-- The Postgres twin in ../postgres has the same tables, columns and indexes.

-- One authenticator secret per user, sealed (secrets.Box, bound to app and
-- user). confirmed_at is NULL while the enrollment waits for its first code;
-- last_step is the last TOTP time step accepted, so no code works twice.
-- qr_token_hash names the pending enrollment's mailed QR image.
CREATE TABLE totp_secrets (
    user_id       TEXT    PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    app_id        TEXT    NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    secret_sealed BLOB    NOT NULL,
    qr_token_hash TEXT,
    last_step     INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT    NOT NULL,
    confirmed_at  TEXT
) STRICT;

--bun:split

CREATE INDEX totp_secrets_app_id_idx ON totp_secrets (app_id);

--bun:split

CREATE UNIQUE INDEX totp_secrets_qr_token_hash_key ON totp_secrets (qr_token_hash) WHERE qr_token_hash IS NOT NULL;

--bun:split

-- Single-use recovery codes, stored as peppered HMACs.
CREATE TABLE recovery_codes (
    id         TEXT PRIMARY KEY,
    app_id     TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash       TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

--bun:split

CREATE UNIQUE INDEX recovery_codes_user_id_hash_key ON recovery_codes (user_id, hash);

--bun:split

CREATE INDEX recovery_codes_app_id_idx ON recovery_codes (app_id);

--bun:split

-- A login waiting for its second factor. hash is the SHA-256 of the opaque
-- token; code_hash the texted code's HMAC (SMS), empty for TOTP.
CREATE TABLE login_tokens (
    id         TEXT    PRIMARY KEY,
    app_id     TEXT    NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash       TEXT    NOT NULL,
    method     TEXT    NOT NULL,
    code_hash  TEXT    NOT NULL DEFAULT '',
    attempts   INTEGER NOT NULL DEFAULT 0,
    created_at TEXT    NOT NULL,
    expires_at TEXT    NOT NULL
) STRICT;

--bun:split

CREATE UNIQUE INDEX login_tokens_hash_key ON login_tokens (hash);

--bun:split

CREATE INDEX login_tokens_app_id_idx ON login_tokens (app_id);

--bun:split

CREATE INDEX login_tokens_user_id_idx ON login_tokens (user_id);

--bun:split

-- A phone number is verified for at most one user of an app.
CREATE UNIQUE INDEX users_app_id_phone_key ON users (app_id, phone) WHERE phone_verified = 1;
