-- Issue #13: saved segments' sizes, counted per reader scope by a background job
-- (segments.size) after every score refresh and on a schedule, and shown with the time they
-- were counted, so that the list of segments is one read instead of a count of a million
-- customers per segment. `scope` is `all`, `team:<id>` or `user:<id>`
-- (guanxi_store::segment_sizes::scope_key). In step across both backends.
CREATE TABLE segment_sizes (
    segment_id BIGINT NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    size BIGINT NOT NULL,
    counted_at BIGINT NOT NULL,
    PRIMARY KEY (segment_id, scope)
);
