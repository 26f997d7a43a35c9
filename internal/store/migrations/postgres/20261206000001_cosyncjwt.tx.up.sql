-- The CosyncJWT app token an application answers to (internal/cosyncjwt),
-- kept as its SHA-256 hex: the facade finds the app by it.
ALTER TABLE apps ADD COLUMN cosyncjwt_token_hash text;

--bun:split

CREATE UNIQUE INDEX apps_cosyncjwt_token_hash_idx ON apps (cosyncjwt_token_hash);
