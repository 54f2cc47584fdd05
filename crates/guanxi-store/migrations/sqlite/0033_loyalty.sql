-- Issue #15: the points ledger (guanxi_store::loyalty). In step with ../postgres/0033_loyalty.sql.
--
-- One account row per member: what a posting locks (one posting per customer at a time on
-- both backends), with the member's tier.
CREATE TABLE loyalty_accounts (
    customer_id BIGINT PRIMARY KEY REFERENCES customers(id),
    tier TEXT,
    tier_since BIGINT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL
);

-- The ledger, append-only. `points` > 0 is a lot (an accrual or a positive adjustment, with
-- its expiry); < 0 a debit (redeem, expire, reverse, a negative adjustment). `key` makes
-- every posting idempotent: the same key posts once. `amount_minor` is the order amount an
-- accrual was earned on or a reversal refunded.
CREATE TABLE loyalty_entries (
    id INTEGER PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    kind TEXT NOT NULL,
    points BIGINT NOT NULL,
    expires_at BIGINT,
    order_id BIGINT REFERENCES orders(id),
    amount_minor BIGINT,
    reason TEXT,
    user_id BIGINT REFERENCES users(id),
    at BIGINT NOT NULL,
    key TEXT NOT NULL UNIQUE
);
CREATE INDEX loyalty_entries_customer ON loyalty_entries(customer_id, at);
CREATE INDEX loyalty_entries_order ON loyalty_entries(order_id);
CREATE INDEX loyalty_entries_expiry ON loyalty_entries(expires_at);

-- Which lots each debit took points from (and, for a debt, which later lot settled it).
CREATE TABLE loyalty_allocations (
    debit_id BIGINT NOT NULL REFERENCES loyalty_entries(id),
    lot_id BIGINT NOT NULL REFERENCES loyalty_entries(id),
    points BIGINT NOT NULL,
    PRIMARY KEY (debit_id, lot_id)
);
CREATE INDEX loyalty_allocations_lot ON loyalty_allocations(lot_id);
