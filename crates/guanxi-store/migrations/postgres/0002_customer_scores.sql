-- Scores computed by the analytics engine (guanxi scores refresh), one row per customer with
-- orders. Replaced as a whole by each refresh. Keep in step with ../sqlite/0002_customer_scores.sql.
CREATE TABLE customer_scores (
    customer_id BIGINT PRIMARY KEY REFERENCES customers(id),
    recency_days BIGINT NOT NULL,
    frequency BIGINT NOT NULL,
    monetary_minor BIGINT NOT NULL,
    r_score BIGINT NOT NULL,
    f_score BIGINT NOT NULL,
    m_score BIGINT NOT NULL,
    rfm_segment TEXT NOT NULL,
    value_cell TEXT NOT NULL,
    abc_class TEXT NOT NULL,
    activity TEXT NOT NULL,
    typical_interval_days DOUBLE PRECISION NOT NULL,
    orders_falling BOOLEAN NOT NULL,
    clv_minor BIGINT,
    p_alive DOUBLE PRECISION,
    expected_purchases DOUBLE PRECISION,
    churn_probability DOUBLE PRECISION,
    churn_reason TEXT,
    computed_at BIGINT NOT NULL
);
CREATE INDEX customer_scores_segment ON customer_scores(rfm_segment);
CREATE INDEX customer_scores_churn ON customer_scores(churn_probability);
