-- Issue #14: the service desk. Tickets (enquiries, complaints, service requests, suggestions)
-- with a thread of messages and notes, their history (projected into the customer-event stream
-- for the 360 timeline), SLA policies on business calendars with China's holidays and make-up
-- working days, the pause history that stops the clock while waiting for the customer, queues
-- with members and skills, and each agent's presence and capacity.
-- In step with ../postgres/0023_service_desk.sql.

ALTER TABLE teams ADD COLUMN lead_id BIGINT REFERENCES users(id);

-- The record a timeline entry opens when it is not the entry itself (a ticket for its events).
ALTER TABLE customer_events ADD COLUMN link_id BIGINT;

CREATE TABLE service_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO service_settings (key, value) VALUES ('reopen_days', '7');

CREATE TABLE ticket_categories (
    id INTEGER PRIMARY KEY,
    parent_id BIGINT REFERENCES ticket_categories(id),
    code TEXT NOT NULL UNIQUE,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    position BIGINT NOT NULL DEFAULT 0,
    active INTEGER NOT NULL DEFAULT 1,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
INSERT INTO ticket_categories (id, parent_id, code, name_zh, name_en, position, created_at, updated_at) VALUES
    (1, NULL, 'complaint', '投诉', 'Complaints', 1, 0, 0),
    (2, 1, 'product_quality', '产品质量', 'Product quality', 1, 0, 0),
    (3, 1, 'packaging', '包装', 'Packaging', 2, 0, 0),
    (4, 1, 'defect', '缺陷/损坏', 'Defect or damage', 3, 0, 0),
    (5, 1, 'misuse', '使用不当/说明不清', 'Misuse or unclear instructions', 4, 0, 0),
    (6, 1, 'delivery', '配送', 'Delivery', 5, 0, 0),
    (7, 1, 'service_attitude', '服务态度', 'Service attitude', 6, 0, 0),
    (8, 1, 'price_billing', '价格/账单', 'Price or billing', 7, 0, 0),
    (9, NULL, 'enquiry', '咨询', 'Enquiries', 2, 0, 0),
    (10, 9, 'product_info', '产品信息', 'Product information', 1, 0, 0),
    (11, 9, 'order_status', '订单状态', 'Order status', 2, 0, 0),
    (12, 9, 'membership', '会员与积分', 'Membership and points', 3, 0, 0),
    (13, NULL, 'service', '服务请求', 'Service requests', 3, 0, 0),
    (14, 13, 'repair', '维修', 'Repair', 1, 0, 0),
    (15, 13, 'return_exchange', '退换货', 'Return or exchange', 2, 0, 0),
    (16, 13, 'invoice', '发票', 'Invoice', 3, 0, 0),
    (17, NULL, 'suggestion', '建议', 'Suggestions', 4, 0, 0);

-- `week` and `workday_hours` are JSON (guanxi_domain::ticket::calendar::BusinessCalendar);
-- `holidays_seeded` is 0 until the store has written the shipped holiday table once, so an
-- admin's later edits are never overwritten.
CREATE TABLE business_calendars (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    utc_offset_minutes BIGINT NOT NULL,
    week TEXT NOT NULL,
    workday_hours TEXT NOT NULL,
    holidays_seeded INTEGER NOT NULL DEFAULT 0,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
INSERT INTO business_calendars (id, name, utc_offset_minutes, week, workday_hours, created_at, updated_at) VALUES
    (1, '中国大陆 / Mainland China', 480,
     '[[{"start":540,"end":720},{"start":780,"end":1080}],[{"start":540,"end":720},{"start":780,"end":1080}],[{"start":540,"end":720},{"start":780,"end":1080}],[{"start":540,"end":720},{"start":780,"end":1080}],[{"start":540,"end":720},{"start":780,"end":1080}],[],[]]',
     '[{"start":540,"end":720},{"start":780,"end":1080}]', 0, 0);

CREATE TABLE calendar_days (
    calendar_id BIGINT NOT NULL REFERENCES business_calendars(id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    rule TEXT NOT NULL,
    festival TEXT,
    provisional INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (calendar_id, day)
);

-- Policies apply in `position` order, first match wins; a NULL condition matches anything.
CREATE TABLE sla_policies (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    position BIGINT NOT NULL,
    kind TEXT,
    category_id BIGINT REFERENCES ticket_categories(id),
    priority TEXT,
    tier TEXT,
    first_response_minutes BIGINT,
    next_response_minutes BIGINT,
    resolution_minutes BIGINT,
    calendar_id BIGINT NOT NULL REFERENCES business_calendars(id),
    active INTEGER NOT NULL DEFAULT 1,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
INSERT INTO sla_policies (id, name, position, kind, priority, tier, first_response_minutes, next_response_minutes, resolution_minutes, calendar_id, created_at, updated_at) VALUES
    (1, '紧急投诉 / Urgent complaint', 1, 'complaint', 'urgent', NULL, 30, 60, 240, 1, 0, 0),
    (2, '投诉 / Complaint', 2, 'complaint', NULL, NULL, 60, 240, 960, 1, 0, 0),
    (3, 'A 类客户 / Tier A customer', 3, NULL, NULL, 'A', 60, 240, 1440, 1, 0, 0),
    (4, '标准 / Standard', 4, NULL, NULL, NULL, 240, 480, 2400, 1, 0, 0);

CREATE TABLE service_queues (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    team_id BIGINT REFERENCES teams(id),
    skills TEXT NOT NULL DEFAULT '',
    routing TEXT NOT NULL DEFAULT 'round_robin',
    is_default INTEGER NOT NULL DEFAULT 0,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
INSERT INTO service_queues (id, name, routing, is_default, created_at, updated_at) VALUES
    (1, '服务台 / Service desk', 'round_robin', 1, 0, 0);

CREATE TABLE queue_members (
    queue_id BIGINT NOT NULL REFERENCES service_queues(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id),
    PRIMARY KEY (queue_id, user_id)
);
CREATE INDEX queue_members_user ON queue_members(user_id);

CREATE TABLE agent_states (
    user_id BIGINT PRIMARY KEY REFERENCES users(id),
    status TEXT NOT NULL DEFAULT 'offline',
    capacity BIGINT NOT NULL DEFAULT 5,
    skills TEXT NOT NULL DEFAULT '',
    last_assigned_at BIGINT,
    updated_at BIGINT NOT NULL
);

CREATE TABLE tickets (
    id INTEGER PRIMARY KEY,
    customer_id BIGINT REFERENCES customers(id),
    contact_name TEXT,
    contact_address TEXT,
    kind TEXT NOT NULL,
    category_id BIGINT REFERENCES ticket_categories(id),
    priority TEXT NOT NULL,
    priority_rank BIGINT NOT NULL,
    channel TEXT NOT NULL,
    subject TEXT NOT NULL,
    status TEXT NOT NULL,
    queue_id BIGINT NOT NULL REFERENCES service_queues(id),
    team_id BIGINT REFERENCES teams(id),
    assignee_id BIGINT REFERENCES users(id),
    severe INTEGER NOT NULL DEFAULT 0,
    complaint_step TEXT,
    remedy_kind TEXT,
    remedy_detail TEXT,
    remedy_amount_minor BIGINT,
    resolution_code TEXT,
    resolution_text TEXT,
    order_id BIGINT REFERENCES orders(id),
    product_sku TEXT,
    parent_id BIGINT REFERENCES tickets(id),
    sla_policy_id BIGINT REFERENCES sla_policies(id),
    first_response_due BIGINT,
    first_response_at BIGINT,
    first_response_breached_at BIGINT,
    next_response_due BIGINT,
    next_response_breached_at BIGINT,
    resolution_due BIGINT,
    resolution_breached_at BIGINT,
    paused_remaining_s BIGINT,
    waiting_since BIGINT,
    first_assigned_at BIGINT,
    resolved_at BIGINT,
    closed_at BIGINT,
    reopen_count BIGINT NOT NULL DEFAULT 0,
    escalation_level BIGINT NOT NULL DEFAULT 0,
    escalated_to BIGINT REFERENCES users(id),
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    created_by BIGINT,
    updated_by BIGINT
);
-- "Take next": the unassigned work of a queue, highest priority then oldest.
CREATE INDEX tickets_waiting ON tickets(queue_id, priority_rank, created_at)
    WHERE assignee_id IS NULL AND status IN ('new', 'open', 'pending_internal');
CREATE INDEX tickets_assignee ON tickets(assignee_id, status, updated_at);
CREATE INDEX tickets_customer ON tickets(customer_id, created_at);
CREATE INDEX tickets_status ON tickets(status, updated_at);
CREATE INDEX tickets_created ON tickets(created_at);
-- The SLA sweep: targets not met, not yet marked breached.
CREATE INDEX tickets_first_response_due ON tickets(first_response_due)
    WHERE first_response_at IS NULL AND first_response_breached_at IS NULL;
CREATE INDEX tickets_next_response_due ON tickets(next_response_due)
    WHERE next_response_breached_at IS NULL;
CREATE INDEX tickets_resolution_due ON tickets(resolution_due)
    WHERE resolved_at IS NULL AND resolution_breached_at IS NULL;

CREATE TABLE ticket_messages (
    id INTEGER PRIMARY KEY,
    ticket_id BIGINT NOT NULL REFERENCES tickets(id),
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    user_id BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX ticket_messages_ticket ON ticket_messages(ticket_id, id);

CREATE TABLE ticket_pauses (
    id INTEGER PRIMARY KEY,
    ticket_id BIGINT NOT NULL REFERENCES tickets(id),
    started_at BIGINT NOT NULL,
    ended_at BIGINT
);
CREATE INDEX ticket_pauses_ticket ON ticket_pauses(ticket_id, started_at);

-- What happened to a ticket, in order; rows with a customer are projected to the timeline.
CREATE TABLE ticket_events (
    id INTEGER PRIMARY KEY,
    ticket_id BIGINT NOT NULL REFERENCES tickets(id),
    customer_id BIGINT REFERENCES customers(id),
    at BIGINT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT,
    user_id BIGINT
);
CREATE INDEX ticket_events_ticket ON ticket_events(ticket_id, id);
CREATE INDEX ticket_events_customer ON ticket_events(customer_id);

CREATE TABLE ticket_attachments (
    id INTEGER PRIMARY KEY,
    ticket_id BIGINT NOT NULL REFERENCES tickets(id),
    message_id BIGINT REFERENCES ticket_messages(id),
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    data BLOB NOT NULL,
    created_at BIGINT NOT NULL,
    created_by BIGINT
);
CREATE INDEX ticket_attachments_ticket ON ticket_attachments(ticket_id);
