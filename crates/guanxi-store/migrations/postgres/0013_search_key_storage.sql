-- In step with ../sqlite/0013_search_key_storage.sql.
--
-- Search keys are keyed by (kind, search_key, customer_id), kind first: identification ranks a
-- hit by the kind of key it matched, so it reads the best few of each kind as one short index
-- range per kind and stops, instead of collecting every key that starts with what was typed.
--
-- They lose their foreign key to customers: they are derived rows, always written and rebuilt
-- in the transaction that writes their customer, and every read joins customers (never
-- hard-deleted), so the per-row check guarded nothing and took nearly half the time an import
-- spends copying search keys. (SQLite's WITHOUT ROWID storage has no counterpart here.)
ALTER TABLE customer_search_keys
    DROP CONSTRAINT customer_search_keys_customer_id_fkey,
    DROP CONSTRAINT customer_search_keys_pkey,
    ADD PRIMARY KEY (kind, search_key, customer_id);

-- A customer's own keys (rebuilt on every name or contact change, and read when a query of
-- several words narrows known customers) come from the index alone, not from heap rows
-- scattered over the table. SQLite's WITHOUT ROWID index already carries the whole key.
DROP INDEX customer_search_keys_customer;
CREATE INDEX customer_search_keys_customer ON customer_search_keys(customer_id, search_key, kind);
