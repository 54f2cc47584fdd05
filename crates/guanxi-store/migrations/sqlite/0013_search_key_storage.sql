-- Search keys and tags are small rows looked up by their primary key. As ordinary tables each
-- row lived twice (the rowid table and the primary-key index); WITHOUT ROWID stores it once, in
-- primary-key order: a bulk import writes about a third less. The secondary indexes stay.
--
-- Search keys are keyed by (kind, search_key, customer_id), kind first: identification ranks a
-- hit by the kind of key it matched, so it reads the best few of each kind as one short index
-- range per kind and stops, instead of collecting every key that starts with what was typed
-- (710 customers named 张伟 in a million). A lookup by key alone names the kinds (`kind IN`).
--
-- Search keys lose their foreign key to customers: they are derived rows, always written and
-- rebuilt in the transaction that writes their customer, and every read joins customers (which
-- are never hard-deleted), so the per-row parent lookup guarded nothing and cost a fifth of an
-- import's writing. In step with ../postgres/0013_search_key_storage.sql.
CREATE TABLE customer_search_keys_next (
    search_key TEXT NOT NULL,
    customer_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    PRIMARY KEY (kind, search_key, customer_id)
) WITHOUT ROWID;
INSERT INTO customer_search_keys_next (search_key, customer_id, kind)
    SELECT search_key, customer_id, kind FROM customer_search_keys;
DROP TABLE customer_search_keys;
ALTER TABLE customer_search_keys_next RENAME TO customer_search_keys;
CREATE INDEX customer_search_keys_customer ON customer_search_keys(customer_id);

CREATE TABLE customer_tags_next (
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    tag TEXT NOT NULL,
    PRIMARY KEY (customer_id, tag)
) WITHOUT ROWID;
INSERT INTO customer_tags_next (customer_id, tag) SELECT customer_id, tag FROM customer_tags;
DROP TABLE customer_tags;
ALTER TABLE customer_tags_next RENAME TO customer_tags;
CREATE INDEX customer_tags_tag ON customer_tags(tag);
