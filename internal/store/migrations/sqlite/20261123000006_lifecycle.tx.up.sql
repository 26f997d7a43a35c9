-- Invitations and per-app mail templates.
CREATE TABLE invitations (
    id          TEXT    PRIMARY KEY,
    app_id      TEXT    NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    handle      TEXT    NOT NULL,
    hash        TEXT    NOT NULL,
    inviter_id  TEXT,
    metadata    TEXT,
    locale      TEXT    NOT NULL,
    attempts    INTEGER NOT NULL,
    created_at  TEXT    NOT NULL,
    expires_at  TEXT    NOT NULL,
    accepted_at TEXT,
    accepted_by TEXT,
    revoked_at  TEXT
) STRICT;

--bun:split

CREATE INDEX invitations_app_id_handle_idx ON invitations (app_id, handle, created_at);

--bun:split

CREATE INDEX invitations_app_id_created_at_idx ON invitations (app_id, created_at);

--bun:split

CREATE TABLE email_templates (
    app_id     TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    locale     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    html       TEXT NOT NULL,
    text       TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (app_id, kind, locale)
) STRICT;
