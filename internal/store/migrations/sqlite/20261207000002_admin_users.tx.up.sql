-- The Admin service's users: where and how each session was opened and
-- when it was last used. The Postgres twin in ../postgres has the same
-- columns and, besides, three indexes for ListUsers' search that SQLite
-- does without: it searches email and user-name prefixes with range scans
-- on the unique indexes it already has (its LIKE would not use them), and
-- metadata values by reading the app's users through json_tree.
ALTER TABLE sessions ADD COLUMN ip TEXT NOT NULL DEFAULT '';

--bun:split

ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';

--bun:split

-- How the session was opened: password, apple, google, anonymous, signup, invitation.
ALTER TABLE sessions ADD COLUMN method TEXT NOT NULL DEFAULT '';

--bun:split

-- When its refresh token was last rotated; NULL until the first refresh.
ALTER TABLE sessions ADD COLUMN last_used_at TEXT;
