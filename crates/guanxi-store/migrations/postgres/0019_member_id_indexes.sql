-- Issue #13: a list or segment condition on a score or a tag is a list of customer ids read
-- from that column's index; with the id in the index it is read from the index alone.
-- With the id in the index the list is an index-only scan instead of a heap read per entry.
-- In step with ../sqlite/0019_member_id_indexes.sql.
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
-- A list page filtered on a tag, a score or the search words picks its fifty ids by reading
-- each match's owner and sort key from here, not from the customer's row (see ListPlan::Sparse
-- in customers.rs): 24,700 "zhang" matches cost 270 ms of row reads at a million, 90 ms here.
CREATE INDEX customers_list_keys ON customers(id) INCLUDE (owner_id, updated_at, created_at, name_sort)
    WHERE deleted_at IS NULL;
