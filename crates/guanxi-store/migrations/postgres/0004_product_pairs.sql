-- "Customers who bought X also bought Y": pair rules (FP-growth over order baskets), written by
-- the score refresh and replaced as a whole each time. Keep in step with
-- ../sqlite/0004_product_pairs.sql.
CREATE TABLE product_pairs (
    product_id BIGINT NOT NULL REFERENCES products(id),
    other_id BIGINT NOT NULL REFERENCES products(id),
    support DOUBLE PRECISION NOT NULL,
    confidence DOUBLE PRECISION NOT NULL,
    lift DOUBLE PRECISION NOT NULL,
    computed_at BIGINT NOT NULL,
    PRIMARY KEY (product_id, other_id)
);
