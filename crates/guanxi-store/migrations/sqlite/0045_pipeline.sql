-- Issue #17: the sales pipeline. Pipelines of stages (open, won, lost) with a default
-- probability; lost reasons; opportunities with their product lines; and every stage change
-- with how long the deal had been in the stage it left (time in stage, conversion).
CREATE TABLE pipelines (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    team_id BIGINT REFERENCES teams(id),
    active INTEGER NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE pipeline_stages (
    id INTEGER PRIMARY KEY,
    pipeline_id BIGINT NOT NULL REFERENCES pipelines(id),
    name TEXT NOT NULL,
    name_en TEXT,
    kind TEXT NOT NULL,
    probability BIGINT NOT NULL,
    position BIGINT NOT NULL,
    retired INTEGER NOT NULL
);
CREATE INDEX pipeline_stages_pipeline ON pipeline_stages(pipeline_id, position);
CREATE TABLE lost_reasons (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    name_en TEXT,
    needs_note INTEGER NOT NULL,
    active INTEGER NOT NULL,
    position BIGINT NOT NULL
);
CREATE TABLE opportunities (
    id INTEGER PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    owner_id BIGINT REFERENCES users(id),
    pipeline_id BIGINT NOT NULL REFERENCES pipelines(id),
    stage_id BIGINT NOT NULL REFERENCES pipeline_stages(id),
    status TEXT NOT NULL,
    name TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    probability BIGINT,
    expected_close TEXT,
    next_step TEXT,
    competitors TEXT NOT NULL,
    stated_needs TEXT,
    latent_needs TEXT,
    source TEXT,
    campaign_id BIGINT REFERENCES campaigns(id),
    lost_reason_id BIGINT REFERENCES lost_reasons(id),
    lost_note TEXT,
    stage_entered_at BIGINT NOT NULL,
    last_activity_at BIGINT NOT NULL,
    closed_at BIGINT,
    order_id BIGINT REFERENCES orders(id),
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    created_by BIGINT,
    updated_by BIGINT,
    deleted_at BIGINT
);
-- The kanban: a pipeline's open deals per stage; the forecast: open deals by close month.
CREATE INDEX opportunities_board ON opportunities(pipeline_id, stage_id, status, updated_at);
CREATE INDEX opportunities_owner ON opportunities(owner_id, status, expected_close);
CREATE INDEX opportunities_close ON opportunities(status, expected_close);
CREATE INDEX opportunities_customer ON opportunities(customer_id);
-- Stale deals: open ones untouched the longest, a rep's own or everyone's.
CREATE INDEX opportunities_stale ON opportunities(owner_id, status, last_activity_at);
CREATE INDEX opportunities_stale_all ON opportunities(status, last_activity_at);
CREATE TABLE opportunity_lines (
    id INTEGER PRIMARY KEY,
    opportunity_id BIGINT NOT NULL REFERENCES opportunities(id),
    position BIGINT NOT NULL,
    sku TEXT NOT NULL,
    name TEXT,
    quantity BIGINT NOT NULL,
    unit_price_minor BIGINT NOT NULL
);
CREATE INDEX opportunity_lines_opportunity ON opportunity_lines(opportunity_id, position);
CREATE TABLE opportunity_stage_changes (
    id INTEGER PRIMARY KEY,
    opportunity_id BIGINT NOT NULL REFERENCES opportunities(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    from_stage_id BIGINT REFERENCES pipeline_stages(id),
    to_stage_id BIGINT NOT NULL REFERENCES pipeline_stages(id),
    at BIGINT NOT NULL,
    ms_in_from BIGINT,
    user_id BIGINT
);
CREATE INDEX opportunity_stage_changes_opportunity ON opportunity_stage_changes(opportunity_id, at);
CREATE INDEX opportunity_stage_changes_stage ON opportunity_stage_changes(to_stage_id, at);
CREATE INDEX opportunity_stage_changes_customer ON opportunity_stage_changes(customer_id);

-- Every shop starts with one pipeline in the seeds' words, and the usual reasons deals are lost.
INSERT INTO pipelines (name, team_id, active, version, created_at, updated_at)
    VALUES ('销售机会', NULL, 1, 1, 0, 0);
INSERT INTO pipeline_stages (pipeline_id, name, name_en, kind, probability, position, retired) VALUES
    ((SELECT id FROM pipelines WHERE name = '销售机会'), '潜在客户', 'Prospect', 'open', 10, 1, 0),
    ((SELECT id FROM pipelines WHERE name = '销售机会'), '目标客户', 'Target', 'open', 20, 2, 0),
    ((SELECT id FROM pipelines WHERE name = '销售机会'), '识别需求', 'Needs identified', 'open', 40, 3, 0),
    ((SELECT id FROM pipelines WHERE name = '销售机会'), '方案计划', 'Proposal', 'open', 60, 4, 0),
    ((SELECT id FROM pipelines WHERE name = '销售机会'), '商务谈判', 'Negotiation', 'open', 80, 5, 0),
    ((SELECT id FROM pipelines WHERE name = '销售机会'), '成交', 'Won', 'won', 100, 6, 0),
    ((SELECT id FROM pipelines WHERE name = '销售机会'), '输单', 'Lost', 'lost', 0, 7, 0);
INSERT INTO lost_reasons (name, name_en, needs_note, active, position) VALUES
    ('价格太高', 'Price too high', 0, 1, 1),
    ('选择了竞争对手', 'Chose a competitor', 0, 1, 2),
    ('预算不足', 'No budget', 0, 1, 3),
    ('时机不对', 'Bad timing', 0, 1, 4),
    ('需求不匹配', 'Needs not met', 0, 1, 5),
    ('联系不上', 'No response', 0, 1, 6),
    ('其他', 'Other', 1, 1, 7);
