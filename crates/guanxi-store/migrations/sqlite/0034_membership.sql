-- Issue #15: membership programmes and tiers (guanxi_store::loyalty::program and ::nightly).
-- In step with ../postgres/0034_membership.sql.
--
-- A programme's tiers, category rates and promotions are one checked JSON document
-- (guanxi_domain::loyalty::ProgramInput). One programme is active at a time.
-- `accrued_through` is the id of the last order the accrual sweep has looked at.
CREATE TABLE loyalty_programs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    config TEXT NOT NULL,
    active INTEGER NOT NULL,
    accrued_through BIGINT NOT NULL,
    evaluated_at BIGINT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    created_by BIGINT REFERENCES users(id),
    updated_by BIGINT REFERENCES users(id)
);

-- The programme a member belongs to (their tier is the programme's).
ALTER TABLE loyalty_accounts ADD COLUMN program_id BIGINT REFERENCES loyalty_programs(id);
CREATE INDEX loyalty_accounts_program ON loyalty_accounts(program_id, customer_id);

-- Every tier change (joining included), for the member's history and the timeline.
CREATE TABLE loyalty_tier_changes (
    id INTEGER PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    program_id BIGINT NOT NULL REFERENCES loyalty_programs(id),
    from_tier TEXT,
    to_tier TEXT NOT NULL,
    direction TEXT NOT NULL,
    metric BIGINT NOT NULL,
    title TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX loyalty_tier_changes_customer ON loyalty_tier_changes(customer_id, at);
