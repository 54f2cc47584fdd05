-- Issue #15: surveys are sent. A survey triggered by resolved tickets or orders invites the
-- customer of each one after `surveys.cursor` (the last ticket resolution time or order id
-- read); a manual survey is sent to a segment through `survey_sends`, read in chunks from
-- `cursor` (the last customer id). Each invitation's link goes out as a transactional
-- message of the outbox, whose `secret` holds the link's token only until it is delivered.
-- An unanswered invitation gets one reminder after `remind_after_days` (0: none), with a
-- link of its own (`reminder_token_hash`); both links open the same invitation.
ALTER TABLE survey_settings ADD COLUMN remind_after_days BIGINT NOT NULL DEFAULT 3;
ALTER TABLE surveys ADD COLUMN cursor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE survey_invitations ADD COLUMN reminder_token_hash TEXT;
CREATE UNIQUE INDEX survey_invitations_reminder ON survey_invitations(reminder_token_hash);
ALTER TABLE outbox ADD COLUMN secret TEXT;

CREATE TABLE survey_sends (
    id INTEGER PRIMARY KEY,
    survey_id BIGINT NOT NULL REFERENCES surveys(id),
    segment_id BIGINT NOT NULL, -- no foreign key: a segment deleted mid-send ends the send
    cursor BIGINT NOT NULL DEFAULT 0,
    invited BIGINT NOT NULL DEFAULT 0,
    skipped BIGINT NOT NULL DEFAULT 0,
    done INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    created_by BIGINT REFERENCES users(id)
);
CREATE INDEX survey_sends_open ON survey_sends(done, id);
