-- Issue #15: coupons (guanxi_store::loyalty::coupon). In step with ../postgres/0036_coupons.sql.
--
-- An offer is one checked JSON document (guanxi_domain::loyalty::OfferInput); its shared code,
-- if any, is a column of its own so that it is unique and found by index.
CREATE TABLE coupon_offers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    definition TEXT NOT NULL,
    shared_code TEXT UNIQUE,
    active INTEGER NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    created_by BIGINT REFERENCES users(id),
    updated_by BIGINT REFERENCES users(id)
);

-- Coupons issued (with their own code) or redeemed from a shared code (code NULL). `source`:
-- manual, rule or shared; `source_id` the rule. One coupon per order.
CREATE TABLE coupons (
    id INTEGER PRIMARY KEY,
    offer_id BIGINT NOT NULL REFERENCES coupon_offers(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    code TEXT UNIQUE,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    source TEXT NOT NULL,
    source_id BIGINT,
    issued_by BIGINT REFERENCES users(id),
    status TEXT NOT NULL,
    redeemed_at BIGINT,
    order_id BIGINT UNIQUE REFERENCES orders(id),
    discount_minor BIGINT
);
CREATE INDEX coupons_customer ON coupons(customer_id, issued_at);
CREATE INDEX coupons_offer ON coupons(offer_id, status);
