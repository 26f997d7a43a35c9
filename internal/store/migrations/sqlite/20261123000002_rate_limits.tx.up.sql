-- Rate-limit counters, one row per key and fixed window; shared by replicas.
CREATE TABLE rate_limits (
    key          TEXT    NOT NULL,
    window_start TEXT    NOT NULL,
    count        INTEGER NOT NULL,
    expires_at   TEXT    NOT NULL,
    PRIMARY KEY (key, window_start)
) STRICT;

--bun:split

CREATE INDEX rate_limits_expires_at_idx ON rate_limits (expires_at);
