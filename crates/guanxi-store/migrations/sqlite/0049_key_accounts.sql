-- Issue #17: key accounts (大客户) — a relationship manager and a deputy, a visit cadence,
-- the wallet estimate behind the share of wallet, and the account plan (goals, risks, the
-- contact map and the actions, kept as JSON that the domain validates) — and the shop's rule
-- that picks them (ABC class A, or the top percent by CLV).
CREATE TABLE key_account_settings (
    id BIGINT PRIMARY KEY,
    rule TEXT NOT NULL,
    clv_top_percent BIGINT NOT NULL,
    version BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by BIGINT
);
INSERT INTO key_account_settings (id, rule, clv_top_percent, version, updated_at)
    VALUES (1, 'none', 5, 1, 0);
CREATE TABLE key_accounts (
    customer_id BIGINT PRIMARY KEY REFERENCES customers(id),
    origin TEXT NOT NULL,
    manager_id BIGINT REFERENCES users(id),
    deputy_id BIGINT REFERENCES users(id),
    cadence_days BIGINT NOT NULL,
    wallet_minor BIGINT,
    goals TEXT,
    risks TEXT,
    contacts TEXT NOT NULL,
    actions TEXT NOT NULL,
    visit_task_id BIGINT REFERENCES tasks(id),
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    created_by BIGINT,
    updated_by BIGINT
);
CREATE INDEX key_accounts_manager ON key_accounts(manager_id);
CREATE INDEX key_accounts_deputy ON key_accounts(deputy_id);
-- The account page's open complaints.
CREATE INDEX tickets_customer_kind ON tickets(customer_id, kind, status);
