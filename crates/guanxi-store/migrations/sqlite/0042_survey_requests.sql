-- Surveys a rule asked to send (its action `send_survey`), one per survey and firing; the
-- survey sender makes each link and its message, and records the outcome (sent, fatigued,
-- no_address, inactive).
CREATE TABLE survey_requests (
    id INTEGER PRIMARY KEY,
    survey_id BIGINT NOT NULL REFERENCES surveys(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    cause TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    outcome TEXT,
    done_at BIGINT,
    UNIQUE (survey_id, cause)
);
CREATE INDEX survey_requests_pending ON survey_requests(outcome, id);
