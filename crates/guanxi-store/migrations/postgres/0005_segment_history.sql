-- Segment sizes after each score refresh, so the analytics page can show them over time.
-- Keep in step with ../sqlite/0005_segment_history.sql.
CREATE TABLE segment_history (
    computed_at BIGINT NOT NULL,
    rfm_segment TEXT NOT NULL,
    customers BIGINT NOT NULL,
    revenue_minor BIGINT NOT NULL,
    PRIMARY KEY (computed_at, rfm_segment)
);
