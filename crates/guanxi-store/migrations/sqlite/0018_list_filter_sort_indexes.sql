-- Issue #13: a customer-list page filtered by a column of its own (owner, stage, kind, city,
-- source) and sorted by any of the list's sorts is one index range in the page's order:
-- (filter column, sort column, id). Without it a filter whose matches gather at one end of
-- the sort (every company created in the first year, every "z" name) sorted all of its
-- matches, 100,000 and more at a million customers, for fifty rows.
--
-- On SQLite the indexes a page walks hold the live customers only, with their owner: the walk
-- then checks liveness and the reader's scope from the index entry, and reads a customer's
-- row only for the fifty it shows (a walk that read every row it passed cost 5 µs a row).
-- The plain sort indexes they replace had no other reader.
-- In step with ../postgres/0018_list_filter_sort_indexes.sql.
-- The dashboard's (deleted_at, …) indexes go: it reads its rollups (0017) now, and an index
-- that every live customer matches made each list and segment condition on deleted_at a
-- whole-book walk unless written around.
DROP INDEX customers_live_stage;
DROP INDEX customers_live_created;
DROP INDEX customers_updated;
DROP INDEX customers_created;
DROP INDEX customers_name_sort;
CREATE INDEX customers_walk_updated ON customers(updated_at, id, owner_id) WHERE deleted_at IS NULL;
CREATE INDEX customers_walk_created ON customers(created_at, id, owner_id) WHERE deleted_at IS NULL;
CREATE INDEX customers_walk_name ON customers(name_sort, id, owner_id) WHERE deleted_at IS NULL;
CREATE INDEX customers_owner_updated ON customers(owner_id, updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX customers_owner_created ON customers(owner_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX customers_owner_name ON customers(owner_id, name_sort, id) WHERE deleted_at IS NULL;
CREATE INDEX customers_owner_id ON customers(owner_id, id) WHERE deleted_at IS NULL;
CREATE INDEX customers_stage_updated ON customers(lifecycle_stage, updated_at, id, owner_id) WHERE deleted_at IS NULL;
CREATE INDEX customers_stage_created ON customers(lifecycle_stage, created_at, id, owner_id) WHERE deleted_at IS NULL;
CREATE INDEX customers_stage_name ON customers(lifecycle_stage, name_sort, id, owner_id) WHERE deleted_at IS NULL;
CREATE INDEX customers_stage_id ON customers(lifecycle_stage, id, owner_id) WHERE deleted_at IS NULL;
CREATE INDEX customers_kind_updated ON customers(kind, updated_at, id, owner_id) WHERE deleted_at IS NULL;
CREATE INDEX customers_kind_created ON customers(kind, created_at, id, owner_id) WHERE deleted_at IS NULL;
CREATE INDEX customers_kind_name ON customers(kind, name_sort, id, owner_id) WHERE deleted_at IS NULL;
CREATE INDEX customers_kind_id ON customers(kind, id, owner_id) WHERE deleted_at IS NULL;
CREATE INDEX customers_city_updated ON customers(city, updated_at, id, owner_id) WHERE deleted_at IS NULL;
CREATE INDEX customers_city_created ON customers(city, created_at, id, owner_id) WHERE deleted_at IS NULL;
CREATE INDEX customers_city_name ON customers(city, name_sort, id, owner_id) WHERE deleted_at IS NULL;
CREATE INDEX customers_city_id ON customers(city, id, owner_id) WHERE deleted_at IS NULL;
CREATE INDEX customers_source_updated ON customers(source_channel, updated_at, id, owner_id) WHERE deleted_at IS NULL;
CREATE INDEX customers_source_created ON customers(source_channel, created_at, id, owner_id) WHERE deleted_at IS NULL;
CREATE INDEX customers_source_name ON customers(source_channel, name_sort, id, owner_id) WHERE deleted_at IS NULL;
CREATE INDEX customers_source_id ON customers(source_channel, id, owner_id) WHERE deleted_at IS NULL;
