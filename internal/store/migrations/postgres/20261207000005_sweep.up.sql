-- The janitor deletes expired rows in batches (SweepExpired): each batch
-- finds them by expires_at. Built CONCURRENTLY (so no .tx: CONCURRENTLY
-- cannot run in a transaction), because on a deployment with millions of
-- sessions a plain build would hold up sign-ins while it runs. A build cut
-- short leaves an invalid index, which the retry drops first.
DROP INDEX CONCURRENTLY IF EXISTS sessions_expires_at_idx;

--bun:split

CREATE INDEX CONCURRENTLY sessions_expires_at_idx ON sessions (expires_at);

--bun:split

DROP INDEX CONCURRENTLY IF EXISTS codes_expires_at_idx;

--bun:split

CREATE INDEX CONCURRENTLY codes_expires_at_idx ON codes (expires_at);

--bun:split

DROP INDEX CONCURRENTLY IF EXISTS login_tokens_expires_at_idx;

--bun:split

CREATE INDEX CONCURRENTLY login_tokens_expires_at_idx ON login_tokens (expires_at);

--bun:split

DROP INDEX CONCURRENTLY IF EXISTS social_nonces_expires_at_idx;

--bun:split

CREATE INDEX CONCURRENTLY social_nonces_expires_at_idx ON social_nonces (expires_at);
