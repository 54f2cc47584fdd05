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
