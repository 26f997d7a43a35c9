-- Pending signups are listed per app, newest first by id (ListCodes), a
-- page at a time: an index in that order keeps a page one range read.
CREATE INDEX codes_app_id_purpose_id_idx ON codes (app_id, purpose, id);
