-- ListAuditEvents filters an app's events by one field and pages them newest
-- first: each filter gets an index that ends in the paging order.
CREATE INDEX audit_events_app_id_action_idx ON audit_events (app_id, action, occurred_at, id);

--bun:split

CREATE INDEX audit_events_app_id_actor_id_idx ON audit_events (app_id, actor_id, occurred_at, id);

--bun:split

CREATE INDEX audit_events_app_id_subject_id_idx ON audit_events (app_id, subject_id, occurred_at, id);

--bun:split

CREATE INDEX audit_events_app_id_ip_idx ON audit_events (app_id, ip, occurred_at, id);

--bun:split

-- The stats rollup reads one closed day of every app's events, and of users.
CREATE INDEX audit_events_occurred_at_idx ON audit_events (occurred_at);

--bun:split

CREATE INDEX users_created_at_idx ON users (created_at);

--bun:split

-- GetStats counts the identities linked since the rollup.
CREATE INDEX user_identities_app_id_created_at_idx ON user_identities (app_id, created_at);

--bun:split

-- daily_stats is the rollup of one closed UTC day of one app (console.Rollup):
-- the day's counters, the distinct active users as a sketch (merged for a
-- range), and the users by way of signing in as of the day's end.
CREATE TABLE daily_stats (
    app_id             TEXT    NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    day                TEXT    NOT NULL,
    signups            INTEGER NOT NULL DEFAULT 0,
    signup_completions INTEGER NOT NULL DEFAULT 0,
    invites_sent       INTEGER NOT NULL DEFAULT 0,
    invites_accepted   INTEGER NOT NULL DEFAULT 0,
    logins             INTEGER NOT NULL DEFAULT 0,
    login_failures     INTEGER NOT NULL DEFAULT 0,
    active_users       INTEGER NOT NULL DEFAULT 0,
    users              INTEGER NOT NULL DEFAULT 0,
    two_factor_users   INTEGER NOT NULL DEFAULT 0,
    active_sketch      BLOB    NOT NULL,
    providers          TEXT    NOT NULL DEFAULT '{}',
    rolled_at          TEXT NOT NULL,
    PRIMARY KEY (app_id, day)
) STRICT;

--bun:split

-- stats_rollups keeps the watermark: every day up to rolled_through
-- (YYYY-MM-DD) is in daily_stats.
CREATE TABLE stats_rollups (
    name           TEXT PRIMARY KEY,
    rolled_through TEXT NOT NULL,
    updated_at     TEXT NOT NULL
) STRICT;
