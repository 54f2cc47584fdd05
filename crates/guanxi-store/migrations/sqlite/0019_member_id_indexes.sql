-- Issue #13: a list or segment condition on a score or a tag is a list of customer ids read
-- from that column's index; with the id in the index it is read from the index alone.
-- customer_scores and customer_tags key their rows by rowid, so an index of the code alone
-- pointed at the row for every entry: 126,000 row reads to list the champions.
-- In step with ../postgres/0019_member_id_indexes.sql.
DROP INDEX customer_scores_segment;
CREATE INDEX customer_scores_segment ON customer_scores(rfm_segment, customer_id);
DROP INDEX customer_scores_abc;
CREATE INDEX customer_scores_abc ON customer_scores(abc_class, customer_id);
DROP INDEX customer_scores_cell;
CREATE INDEX customer_scores_cell ON customer_scores(value_cell, customer_id);
DROP INDEX customer_scores_rf;
CREATE INDEX customer_scores_rf ON customer_scores(r_score, f_score, customer_id);
DROP INDEX customer_scores_churn;
CREATE INDEX customer_scores_churn ON customer_scores(churn_probability, customer_id);
DROP INDEX customer_tags_tag;
CREATE INDEX customer_tags_tag ON customer_tags(tag, customer_id);
-- A sparse list page filtered on a tag, a score or the search words reads each match's id,
-- owner and sort key from here, not from the customer's row (see ListPlan::Sparse in
-- customers.rs). PostgreSQL's planner reads its pages its own way.
CREATE INDEX customers_list_keys ON customers(id, owner_id, updated_at, created_at, name_sort)
    WHERE deleted_at IS NULL;
-- A dense list page filtered by the search words checks each customer it walks for a key in
-- the typed range: one seek of (customer, key) instead of one per key kind. PostgreSQL's index
-- has been (customer_id, search_key, kind) since 0013.
DROP INDEX customer_search_keys_customer;
CREATE INDEX customer_search_keys_customer ON customer_search_keys(customer_id, search_key, kind);
