-- Issue #13: every customer-list sort has an index in its own order, (sort column, id), so a
-- page is an index range whatever the filter: "newest first" had none (customers_live_created
-- leads with deleted_at and breaks ties by owner, not id, and an import gives thousands of rows
-- the same created_at). Source channel gets an index for the lists that filter by a rare one.
-- In step with ../sqlite/0016_list_sort_indexes.sql.
CREATE INDEX customers_created ON customers(created_at, id);
CREATE INDEX customers_source ON customers(source_channel);
-- The list's score filters (tier, value cell, R×F cell) read their few matches by index when
-- they are few; customer_scores_segment already serves the RFM segment.
CREATE INDEX customer_scores_abc ON customer_scores(abc_class);
CREATE INDEX customer_scores_cell ON customer_scores(value_cell);
CREATE INDEX customer_scores_rf ON customer_scores(r_score, f_score);
