-- Duplicate detection looks customers up by ID number (身份证号) on every create and import row.
-- Keep in step with ../sqlite/0008_id_number_index.sql.
CREATE INDEX customers_id_number ON customers(id_number);
