-- The janitor deletes expired rows in batches (SweepExpired): each batch
-- finds them by expires_at.
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

--bun:split

CREATE INDEX codes_expires_at_idx ON codes (expires_at);

--bun:split

CREATE INDEX login_tokens_expires_at_idx ON login_tokens (expires_at);

--bun:split

CREATE INDEX social_nonces_expires_at_idx ON social_nonces (expires_at);
