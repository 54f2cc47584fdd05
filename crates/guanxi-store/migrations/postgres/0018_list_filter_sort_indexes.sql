-- Issue #13: a customer-list page filtered by a column of its own (owner, stage, kind, city,
-- source) and sorted by any of the list's sorts is one index range in the page's order:
-- (filter column, sort column, id). Without it a filter whose matches gather at one end of
-- the sort (every company created in the first year, every "z" name) sorted all of its
-- matches, 100,000 and more at a million customers, for fifty rows.
-- PostgreSQL's single-column indexes become (column, id) for the id sort, which SQLite gets
-- from every index's trailing rowid. The (column, sort, id) indexes hold the live customers
-- with their owner, so that a page or a segment count reads them without visiting the rows.
-- In step with ../sqlite/0018_list_filter_sort_indexes.sql.
-- The dashboard's (deleted_at, …) indexes go: it reads its rollups (0017) now, and an index
-- that every live customer matches made each list and segment condition on deleted_at a
-- whole-book walk unless written around.
DROP INDEX customers_live_stage;
DROP INDEX customers_live_created;
DROP INDEX customers_owner;
CREATE INDEX customers_owner ON customers(owner_id, id);
DROP INDEX customers_stage;
CREATE INDEX customers_stage ON customers(lifecycle_stage, id);
CREATE INDEX customers_kind ON customers(kind, id);
DROP INDEX customers_city;
CREATE INDEX customers_city ON customers(city, id);
DROP INDEX customers_source;
CREATE INDEX customers_source ON customers(source_channel, id);
CREATE INDEX customers_owner_updated ON customers(owner_id, updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX customers_owner_created ON customers(owner_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX customers_owner_name ON customers(owner_id, name_sort, id) WHERE deleted_at IS NULL;
CREATE INDEX customers_stage_updated ON customers(lifecycle_stage, updated_at, id) INCLUDE (owner_id) WHERE deleted_at IS NULL;
CREATE INDEX customers_stage_created ON customers(lifecycle_stage, created_at, id) INCLUDE (owner_id) WHERE deleted_at IS NULL;
CREATE INDEX customers_stage_name ON customers(lifecycle_stage, name_sort, id) INCLUDE (owner_id) WHERE deleted_at IS NULL;
CREATE INDEX customers_kind_updated ON customers(kind, updated_at, id) INCLUDE (owner_id) WHERE deleted_at IS NULL;
CREATE INDEX customers_kind_created ON customers(kind, created_at, id) INCLUDE (owner_id) WHERE deleted_at IS NULL;
CREATE INDEX customers_kind_name ON customers(kind, name_sort, id) INCLUDE (owner_id) WHERE deleted_at IS NULL;
CREATE INDEX customers_city_updated ON customers(city, updated_at, id) INCLUDE (owner_id) WHERE deleted_at IS NULL;
CREATE INDEX customers_city_created ON customers(city, created_at, id) INCLUDE (owner_id) WHERE deleted_at IS NULL;
CREATE INDEX customers_city_name ON customers(city, name_sort, id) INCLUDE (owner_id) WHERE deleted_at IS NULL;
CREATE INDEX customers_source_updated ON customers(source_channel, updated_at, id) INCLUDE (owner_id) WHERE deleted_at IS NULL;
CREATE INDEX customers_source_created ON customers(source_channel, created_at, id) INCLUDE (owner_id) WHERE deleted_at IS NULL;
CREATE INDEX customers_source_name ON customers(source_channel, name_sort, id) INCLUDE (owner_id) WHERE deleted_at IS NULL;
