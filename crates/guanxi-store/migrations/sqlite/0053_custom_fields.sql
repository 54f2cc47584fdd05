-- Issue #18: custom fields. Definitions per entity (customer, opportunity, ticket) and their
-- values in one EAV table rather than a JSON column: every field is filterable through the
-- same two indexes with bound parameters only (no DDL when an admin adds a field, no spliced
-- JSON paths), a multi-choice value is one row per option, and the customer list reads a
-- custom-field filter like a tag (a membership counted first, then sparse or dense).
-- bench/custom_fields.py compares it with a JSON column and expression indexes.
-- In step with ../postgres/0053_custom_fields.sql.
CREATE TABLE custom_fields (
    id INTEGER PRIMARY KEY,
    entity TEXT NOT NULL,
    applies_to TEXT NOT NULL,
    code TEXT NOT NULL,
    kind TEXT NOT NULL,
    label_zh TEXT NOT NULL,
    label_en TEXT NOT NULL,
    choices TEXT NOT NULL,
    required INTEGER NOT NULL,
    visible_to TEXT NOT NULL,
    sensitive INTEGER NOT NULL,
    position BIGINT NOT NULL,
    preset TEXT,
    archived_at BIGINT,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    created_by BIGINT REFERENCES users(id),
    updated_by BIGINT REFERENCES users(id)
);
CREATE UNIQUE INDEX custom_fields_code ON custom_fields(entity, code);
CREATE TABLE custom_values (
    field_id BIGINT NOT NULL REFERENCES custom_fields(id),
    value_text TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    value_number REAL,
    PRIMARY KEY (field_id, value_text, record_id)
) WITHOUT ROWID;
CREATE INDEX custom_values_number ON custom_values(field_id, value_number, record_id);
CREATE INDEX custom_values_record ON custom_values(record_id, field_id);
