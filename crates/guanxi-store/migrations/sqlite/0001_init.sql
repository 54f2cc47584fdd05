-- Guanxi schema, SQLite flavour. Keep in step with ../postgres/0001_init.sql:
-- the test `schemas_match` compares tables and columns of both.
-- Timestamps are BIGINT milliseconds since the Unix epoch (UTC); dates are ISO TEXT;
-- money is BIGINT minor units with a currency code. Flags are INTEGER 0/1 here and BOOLEAN in
-- PostgreSQL: sqlx's Any driver cannot decode SQLite's BOOLEAN decltype (see rows::Flag).

CREATE TABLE teams (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    team_id BIGINT REFERENCES teams(id),
    see_all_customers INTEGER NOT NULL DEFAULT 0,
    locale TEXT NOT NULL DEFAULT 'zh-CN',
    active INTEGER NOT NULL DEFAULT 1,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    created_by BIGINT,
    updated_by BIGINT
);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    expires_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    name_pinyin TEXT NOT NULL,
    name_initials TEXT NOT NULL,
    gender TEXT,
    birthday TEXT,
    birthday_lunar INTEGER NOT NULL DEFAULT 0,
    id_number TEXT,
    province TEXT,
    city TEXT,
    address TEXT,
    employer TEXT,
    job_title TEXT,
    industry TEXT,
    lifecycle_stage TEXT NOT NULL,
    owner_id BIGINT REFERENCES users(id),
    tags TEXT NOT NULL DEFAULT '[]',
    source_channel TEXT NOT NULL,
    source_direct INTEGER NOT NULL,
    source_collected_by BIGINT,
    source_collected_at BIGINT NOT NULL,
    profile TEXT,
    company TEXT,
    deleted_at BIGINT,
    deleted_by BIGINT,
    merged_into BIGINT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    created_by BIGINT,
    updated_by BIGINT
);
CREATE INDEX customers_owner ON customers(owner_id);
CREATE INDEX customers_stage ON customers(lifecycle_stage);
CREATE INDEX customers_city ON customers(city);
CREATE INDEX customers_updated ON customers(updated_at, id);
CREATE INDEX customers_name ON customers(name, id);

CREATE TABLE customer_tags (
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    tag TEXT NOT NULL,
    PRIMARY KEY (customer_id, tag)
);
CREATE INDEX customer_tags_tag ON customer_tags(tag);

CREATE TABLE customer_search_keys (
    search_key TEXT NOT NULL,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    kind TEXT NOT NULL,
    PRIMARY KEY (search_key, customer_id)
);
CREATE INDEX customer_search_keys_customer ON customer_search_keys(customer_id);

CREATE TABLE contact_points (
    id INTEGER PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    kind TEXT NOT NULL,
    value_raw TEXT NOT NULL,
    value_normalized TEXT NOT NULL,
    label TEXT,
    is_primary INTEGER NOT NULL DEFAULT 0,
    consent_marketing INTEGER NOT NULL DEFAULT 0,
    consent_updated_at BIGINT,
    source_channel TEXT NOT NULL,
    source_direct INTEGER NOT NULL,
    source_collected_by BIGINT,
    source_collected_at BIGINT NOT NULL,
    deleted_at BIGINT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    created_by BIGINT,
    updated_by BIGINT
);
CREATE INDEX contact_points_value ON contact_points(value_normalized);
CREATE INDEX contact_points_customer ON contact_points(customer_id);

CREATE TABLE customer_relations (
    id INTEGER PRIMARY KEY,
    from_customer_id BIGINT NOT NULL REFERENCES customers(id),
    to_customer_id BIGINT NOT NULL REFERENCES customers(id),
    kind TEXT NOT NULL,
    role TEXT,
    note TEXT,
    source_channel TEXT NOT NULL,
    source_direct INTEGER NOT NULL,
    source_collected_by BIGINT,
    source_collected_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    created_by BIGINT,
    updated_by BIGINT,
    UNIQUE (from_customer_id, to_customer_id, kind)
);
CREATE INDEX customer_relations_to ON customer_relations(to_customer_id);

CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    category TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    ordered_at BIGINT NOT NULL,
    total_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    channel TEXT NOT NULL,
    store TEXT,
    external_ref TEXT UNIQUE,
    created_at BIGINT NOT NULL,
    created_by BIGINT
);
CREATE INDEX orders_customer ON orders(customer_id, ordered_at);
CREATE INDEX orders_time ON orders(ordered_at);

CREATE TABLE order_lines (
    id INTEGER PRIMARY KEY,
    order_id BIGINT NOT NULL REFERENCES orders(id),
    line_no BIGINT NOT NULL,
    product_id BIGINT NOT NULL REFERENCES products(id),
    quantity BIGINT NOT NULL,
    unit_price_minor BIGINT NOT NULL,
    amount_minor BIGINT NOT NULL
);
CREATE INDEX order_lines_order ON order_lines(order_id);
CREATE INDEX order_lines_product ON order_lines(product_id);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_id BIGINT,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id BIGINT,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_entity ON audit_log(entity, entity_id);
CREATE INDEX audit_log_actor ON audit_log(actor_id);
