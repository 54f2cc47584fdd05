-- The key customer lists sort names by (guanxi_domain::name::CustomerName::sort_key): pinyin
-- for Han characters, so 张三 sorts under Z and not by code point. Existing rows are filled in
-- by Store::migrate after this runs (the key needs the pinyin table, which SQL does not have).
-- Keep in step with ../postgres/0007_name_sort.sql.
ALTER TABLE customers ADD COLUMN name_sort TEXT NOT NULL DEFAULT '';
CREATE INDEX customers_name_sort ON customers(name_sort, id);
