-- Postgres drops the foreign keys from refresh tokens and audit events to
-- apps, which made every refresh queue a lock on its app's row, and the
-- index that served one of them (see the Postgres migration). SQLite has
-- one writer and no such lock: its keys stay (dropping one means rebuilding
-- the table); the index goes, as on Postgres. Deleting an app still
-- cascades through its sessions.
DROP INDEX IF EXISTS refresh_tokens_app_id_idx;
