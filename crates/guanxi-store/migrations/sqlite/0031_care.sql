-- Issue #15: customer care (guanxi_store::care). In step with ../postgres/0031_care.sql.
--
-- care_dates: one row per customer and date worth a greeting (birthday, spouse's and
-- children's birthdays, wedding, customer-since), derived from the customer file by the
-- `care.refresh` job, with its next solar occurrence (`next_on`, ISO date) and the owner at
-- the time, so an owner's care list is one index range. `occasion` is the date's key within
-- the customer (`birthday`, `child_birthday.2`), `kind` its occasion kind.
CREATE TABLE care_dates (
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    occasion TEXT NOT NULL,
    kind TEXT NOT NULL,
    label TEXT,
    month BIGINT NOT NULL,
    day BIGINT NOT NULL,
    year BIGINT,
    lunar INTEGER NOT NULL,
    owner_id BIGINT,
    next_on TEXT NOT NULL,
    PRIMARY KEY (customer_id, occasion)
);
CREATE INDEX care_dates_owner_next ON care_dates(owner_id, next_on);
CREATE INDEX care_dates_kind_next ON care_dates(kind, next_on);
CREATE INDEX care_dates_next ON care_dates(next_on);

-- How far the refresh has read the customers, by (updated_at, id), and the local day of the
-- last full pass (every day starts one, which also moves past dates to their next occurrence).
CREATE TABLE care_progress (
    id BIGINT PRIMARY KEY,
    seen_updated_at BIGINT NOT NULL,
    seen_id BIGINT NOT NULL,
    full_pass_on TEXT NOT NULL
);

-- What was given on an occasion: a greeting, a gift or a coupon. On the customer timeline as
-- kind `care`.
CREATE TABLE care_touches (
    id INTEGER PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    occasion TEXT NOT NULL,
    occasion_on TEXT NOT NULL,
    kind TEXT NOT NULL,
    channel TEXT,
    note TEXT,
    user_id BIGINT REFERENCES users(id),
    at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX care_touches_customer ON care_touches(customer_id, occasion, occasion_on);

-- Care plans: an occasion, how many days before it, an optional segment, the task to create.
-- `checked_through` is the last occasion day already fired (ISO date).
CREATE TABLE care_plans (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    occasion TEXT NOT NULL,
    days_before BIGINT NOT NULL,
    segment_id BIGINT,
    task_title TEXT NOT NULL,
    active INTEGER NOT NULL,
    checked_through TEXT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    created_by BIGINT,
    updated_by BIGINT
);

-- Each firing of a plan, unique per (plan, customer, occasion day): a restart, a retried job
-- or a second worker cannot fire it again. `task_id` is the task it created.
CREATE TABLE care_firings (
    plan_id BIGINT NOT NULL REFERENCES care_plans(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    occasion_on TEXT NOT NULL,
    fired_at BIGINT NOT NULL,
    task_id BIGINT REFERENCES tasks(id),
    PRIMARY KEY (plan_id, customer_id, occasion_on)
);
CREATE INDEX care_firings_customer ON care_firings(customer_id);
