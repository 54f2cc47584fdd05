-- Issue #16: campaigns and the outbox (guanxi_store::campaign). In step with ../postgres/0037_campaigns.sql.
--
-- A campaign (guanxi_domain::campaign::CampaignInput as one checked JSON document) and where
-- it is: draft → scheduled → sending ⇄ paused → finished / cancelled. `cursor` is the last
-- customer id the audience was read up to (the preparation resumes from it); `prepared` is 1
-- once every customer was read. `errors` counts failed sends since the last success; the
-- campaign pauses itself at `max_errors`. `winner` is the A/B variant chosen for the rest.
CREATE TABLE campaigns (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    definition TEXT NOT NULL,
    state TEXT NOT NULL,
    send_at BIGINT,
    cursor BIGINT NOT NULL DEFAULT 0,
    prepared INTEGER NOT NULL DEFAULT 0,
    audience_total BIGINT NOT NULL DEFAULT 0,
    errors BIGINT NOT NULL DEFAULT 0,
    pause_reason TEXT,
    winner TEXT,
    decided_at BIGINT,
    started_at BIGINT,
    finished_at BIGINT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    created_by BIGINT REFERENCES users(id),
    updated_by BIGINT REFERENCES users(id)
);
CREATE INDEX campaigns_state ON campaigns(state, send_at);

-- The outbox: one row per recipient and message. `state`: queued (due at `due_at`), held (the
-- rest of an A/B test, waiting for the winner), sending (claimed until `lease_until`; a crash
-- leaves it to be claimed again with the same `message_key`), sent, failed (retries used up or
-- a hard bounce), skipped (`skip_reason`), control (held out to measure lift). `deferred` says
-- why `due_at` moved (cap, quiet). `token` signs the unsubscribe, open and click links.
-- Transactional messages (survey links) have no campaign and carry their own subject/body.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    campaign_id BIGINT REFERENCES campaigns(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    purpose TEXT NOT NULL,
    channel TEXT NOT NULL,
    variant TEXT NOT NULL DEFAULT '',
    contact_point_id BIGINT REFERENCES contact_points(id),
    address TEXT,
    lang TEXT NOT NULL,
    subject TEXT,
    body TEXT,
    state TEXT NOT NULL,
    skip_reason TEXT,
    deferred TEXT,
    due_at BIGINT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_until BIGINT,
    last_error TEXT,
    token TEXT NOT NULL UNIQUE,
    message_key TEXT,
    sent_at BIGINT,
    opened_at BIGINT,
    clicked_at BIGINT,
    unsubscribed_at BIGINT,
    bounced_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX outbox_campaign_customer ON outbox(campaign_id, customer_id);
CREATE INDEX outbox_customer_sent ON outbox(customer_id, channel, sent_at);
CREATE INDEX outbox_due ON outbox(campaign_id, state, due_at, id);

-- Responses, one row each: opened, clicked (with the link), unsubscribed, bounced (hard/soft),
-- complained, replied. The outbox row keeps the first time of each for the counts.
CREATE TABLE outbox_events (
    id INTEGER PRIMARY KEY,
    outbox_id BIGINT NOT NULL REFERENCES outbox(id),
    campaign_id BIGINT REFERENCES campaigns(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    kind TEXT NOT NULL,
    detail TEXT,
    at BIGINT NOT NULL
);
CREATE INDEX outbox_events_campaign ON outbox_events(campaign_id, kind, at);
CREATE INDEX outbox_events_customer ON outbox_events(customer_id, at);

-- Addresses that must not be written to, per channel: unsubscribed (also honoured by
-- transactional messages), hard_bounce, complaint, or soft bounces counted in `soft_count`
-- (blocked only once it reaches the policy's limit).
CREATE TABLE suppressions (
    channel TEXT NOT NULL,
    address TEXT NOT NULL,
    reason TEXT NOT NULL,
    soft_count INTEGER NOT NULL DEFAULT 0,
    detail TEXT,
    at BIGINT NOT NULL,
    PRIMARY KEY (channel, address)
);

-- Contact rules per channel, across campaigns: at most `cap_count` marketing messages in
-- `cap_days` days, none between `quiet_start` and `quiet_end` (minutes after local midnight;
-- equal: no quiet hours), none within `complaint_pause_days` of a complaint, an address
-- blocked after `soft_bounce_limit` soft bounces, a campaign paused after `max_errors`
-- failures in a row, at most `per_second` messages a second.
CREATE TABLE contact_policies (
    channel TEXT PRIMARY KEY,
    cap_count INTEGER NOT NULL,
    cap_days INTEGER NOT NULL,
    quiet_start INTEGER NOT NULL,
    quiet_end INTEGER NOT NULL,
    complaint_pause_days INTEGER NOT NULL,
    soft_bounce_limit INTEGER NOT NULL,
    max_errors INTEGER NOT NULL,
    per_second INTEGER NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by BIGINT REFERENCES users(id)
);
INSERT INTO contact_policies (channel, cap_count, cap_days, quiet_start, quiet_end, complaint_pause_days, soft_bounce_limit, max_errors, per_second, updated_at) VALUES
    ('email', 2, 7, 0, 0, 30, 3, 100, 1000, 0),
    ('sms', 2, 7, 1260, 480, 30, 3, 100, 50, 0),
    ('call', 1, 14, 1260, 540, 30, 3, 100, 1000, 0);

-- A customer's own cap on a channel (they asked for fewer messages), over the policy's.
CREATE TABLE customer_contact_caps (
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    channel TEXT NOT NULL,
    cap_count INTEGER NOT NULL,
    cap_days INTEGER NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (customer_id, channel)
);
