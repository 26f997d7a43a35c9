-- Invitations and per-app mail templates.
CREATE TABLE invitations (
    id          text        PRIMARY KEY,
    app_id      text        NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    handle      text        NOT NULL,
    hash        text        NOT NULL,
    inviter_id  text,
    metadata    jsonb,
    locale      text        NOT NULL,
    attempts    integer     NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz,
    accepted_by text,
    revoked_at  timestamptz
);

--bun:split

CREATE INDEX invitations_app_id_handle_idx ON invitations (app_id, handle, created_at);

--bun:split

CREATE INDEX invitations_app_id_created_at_idx ON invitations (app_id, created_at);

--bun:split

CREATE TABLE email_templates (
    app_id     text        NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    kind       text        NOT NULL,
    locale     text        NOT NULL,
    subject    text        NOT NULL,
    html       text        NOT NULL,
    text       text        NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (app_id, kind, locale)
);
