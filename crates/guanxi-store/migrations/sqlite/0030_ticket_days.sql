-- Issue #14: the daily rollup of the service desk's figures (guanxi_store::ticket::rollup):
-- one row per local day with that day's additive parts as JSON, counted by the
-- `tickets.rollup` job; the manager's figures for a month or a year add these up instead of
-- aggregating every ticket of the period. In step with ../postgres/0030_ticket_days.sql.
CREATE TABLE ticket_days (
    day TEXT PRIMARY KEY,
    utc_offset_minutes BIGINT NOT NULL,
    figures TEXT NOT NULL,
    computed_at BIGINT NOT NULL
);
