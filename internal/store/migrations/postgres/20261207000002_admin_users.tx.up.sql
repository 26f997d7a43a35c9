-- The Admin service's users: where and how each session was opened and
-- when it was last used, and indexes for ListUsers' search. The SQLite twin
-- in ../sqlite has the same columns; the three search indexes are
-- Postgres's own (store.Schema lists them in postgresOnlyIndexes):
-- SQLite searches with range scans on the unique indexes it already has,
-- and scans an app's users for metadata values.
ALTER TABLE sessions ADD COLUMN ip text NOT NULL DEFAULT '';

--bun:split

ALTER TABLE sessions ADD COLUMN user_agent text NOT NULL DEFAULT '';

--bun:split

-- How the session was opened: password, apple, google, anonymous, signup, invitation.
ALTER TABLE sessions ADD COLUMN method text NOT NULL DEFAULT '';

--bun:split

-- When its refresh token was last rotated; NULL until the first refresh.
ALTER TABLE sessions ADD COLUMN last_used_at timestamptz;

--bun:split

-- Email and user-name prefix search (LIKE 'q%'): the unique indexes use
-- the database's collation, which LIKE can use only under "C".
CREATE INDEX users_app_id_email_pattern_idx ON users (app_id, email text_pattern_ops);

--bun:split

CREATE INDEX users_app_id_user_name_key_pattern_idx ON users (app_id, user_name_key text_pattern_ops);

--bun:split

-- Every string and number in a user's metadata, at any depth, lower-cased:
-- what ListUsers' search matches a whole metadata value against. lower()
-- follows the database's fixed ctype, so the function is immutable and the
-- GIN index below answers `cosync_metadata_values(metadata) @> ARRAY[lower($1)]`
-- without reading the rows of non-matching users.
CREATE FUNCTION cosync_metadata_values(md jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT coalesce(array_agg(DISTINCT lower(v #>> '{}')), '{}')
    FROM jsonb_path_query(md, 'strict $.**') AS v
    WHERE jsonb_typeof(v) IN ('string', 'number')
$$;

--bun:split

CREATE INDEX users_metadata_values_idx ON users USING gin (cosync_metadata_values(metadata));
