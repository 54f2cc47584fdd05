-- Saved segments (客户细分): a name and a rule (JSON of guanxi_domain::segment::SegmentRule),
-- resolved at each use so relative dates move with time. Shared by the whole team; who may see
-- which members is decided by each reader's record scope, not by the segment.
-- Keep in step with ../postgres/0006_segments.sql.
CREATE TABLE segments (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    rule TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    created_by BIGINT,
    updated_by BIGINT
);
