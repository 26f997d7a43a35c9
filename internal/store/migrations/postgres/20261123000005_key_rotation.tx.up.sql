-- Key rotation and Vault. The SQLite twin in ../sqlite has the same
-- tables, columns and indexes; keep them in step.

-- At most one key of an app signs: two rotations at once cannot both win.
CREATE UNIQUE INDEX signing_keys_one_active_key ON signing_keys (app_id) WHERE state = 'active';

--bun:split

-- Finds verifying keys whose time is up, across apps.
CREATE INDEX signing_keys_state_retire_at_idx ON signing_keys (state, retire_at);

--bun:split

-- Secrets of the whole deployment (the one-time-code pepper under Vault),
-- each sealed with the deployment's secrets.Box under "deployment-secret:<name>".
CREATE TABLE deployment_secrets (
    name       text PRIMARY KEY,
    sealed     bytea NOT NULL,
    created_at timestamptz NOT NULL
);
