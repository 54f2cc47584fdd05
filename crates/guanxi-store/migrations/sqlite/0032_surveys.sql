-- Issue #15: satisfaction surveys (guanxi_store::survey). In step with ../postgres/0032_surveys.sql.
--
-- surveys: what is asked (`definition`, JSON of guanxi_domain::survey::SurveyDefinition), when
-- it is sent (`trigger`: manual, ticket_resolved, order) and how long a link lives.
CREATE TABLE surveys (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    definition TEXT NOT NULL,
    trigger TEXT NOT NULL,
    expires_days BIGINT NOT NULL,
    active INTEGER NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    created_by BIGINT,
    updated_by BIGINT
);

-- The survey-fatigue rule across every survey: no customer is invited more than once in
-- `fatigue_days`. One row.
CREATE TABLE survey_settings (
    id BIGINT PRIMARY KEY,
    fatigue_days BIGINT NOT NULL
);

-- One personal link per customer and cause. Only the SHA-256 of the link's token is kept.
-- `cause` (`ticket:12`, `order:7`, `manual:<n>`) is unique per survey, so a trigger that
-- runs twice invites once. The agent, team and product of the cause are copied at invitation
-- time: a response is counted for whoever served, even after the ticket moves.
CREATE TABLE survey_invitations (
    id INTEGER PRIMARY KEY,
    survey_id BIGINT NOT NULL REFERENCES surveys(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    token_hash TEXT NOT NULL UNIQUE,
    cause TEXT NOT NULL,
    ticket_id BIGINT,
    order_id BIGINT,
    agent_id BIGINT,
    team_id BIGINT,
    product TEXT,
    locale TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    reminders BIGINT NOT NULL DEFAULT 0,
    reminded_at BIGINT,
    responded_at BIGINT,
    UNIQUE (survey_id, cause)
);
CREATE INDEX survey_invitations_customer ON survey_invitations(customer_id, created_at);
CREATE INDEX survey_invitations_survey ON survey_invitations(survey_id, created_at);

-- At most one response per invitation (the link is single-use). `score` is the kind's main
-- rating (CSAT 1–5, NPS 0–10) when answered, for the figures; `answers` holds them all.
CREATE TABLE survey_responses (
    id INTEGER PRIMARY KEY,
    invitation_id BIGINT NOT NULL UNIQUE REFERENCES survey_invitations(id),
    survey_id BIGINT NOT NULL REFERENCES surveys(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    answered_at BIGINT NOT NULL,
    score BIGINT,
    answers TEXT NOT NULL,
    comment TEXT,
    agent_id BIGINT,
    team_id BIGINT,
    product TEXT,
    follow_up_task_id BIGINT REFERENCES tasks(id)
);
CREATE INDEX survey_responses_survey ON survey_responses(survey_id, answered_at);
CREATE INDEX survey_responses_customer ON survey_responses(customer_id);
