-- Rate-limit counters are written by every login and signup, and are worth
-- little once a window ends. UNLOGGED keeps them out of the write-ahead
-- log: in an A/B run of the load generator a login's Postgres CPU fell
-- from 1.31-1.35 to 1.05-1.08 ms. The price: a crash of Postgres (not a
-- clean restart) empties the table, and streaming replicas do not carry
-- it, so after a crash or a failover every window starts again from zero.
-- docs/security.md says so.
ALTER TABLE rate_limits SET UNLOGGED;
