-- Rate-limit counters, one row per key and fixed window; shared by replicas.
CREATE TABLE rate_limits (
    key          text        NOT NULL,
    window_start timestamptz NOT NULL,
    count        integer     NOT NULL,
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (key, window_start)
);

--bun:split

CREATE INDEX rate_limits_expires_at_idx ON rate_limits (expires_at);
