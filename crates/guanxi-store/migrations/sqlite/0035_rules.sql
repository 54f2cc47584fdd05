-- Issue #15: rules that act on customers by themselves (guanxi_store::rule). In step with
-- ../postgres/0035_rules.sql.
--
-- A rule is one checked JSON document (guanxi_domain::rule::RuleInput). `cursor` is, for a
-- rule on events, the last order or ticket-event id it has looked at; `checked_at`, for a
-- rule on a set or a threshold, when the customers were last compared.
CREATE TABLE rules (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    definition TEXT NOT NULL,
    trigger_kind TEXT NOT NULL,
    active INTEGER NOT NULL,
    cursor BIGINT NOT NULL DEFAULT 0,
    checked_at BIGINT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    created_by BIGINT REFERENCES users(id),
    updated_by BIGINT REFERENCES users(id)
);

-- For a rule on a set: who was in it when the rule last looked (entering and leaving are the
-- differences).
CREATE TABLE rule_members (
    rule_id BIGINT NOT NULL REFERENCES rules(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    PRIMARY KEY (rule_id, customer_id)
) WITHOUT ROWID;

-- Every firing, unique per (rule, customer, cause): what happened, what was done. A firing is
-- written `pending` and its actions run in the transaction that marks it `done` (or, alone,
-- `failed` with the reason), so a crash between the two repeats the actions of a pending
-- firing, never of a done one.
CREATE TABLE rule_firings (
    id INTEGER PRIMARY KEY,
    rule_id BIGINT NOT NULL REFERENCES rules(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    cause TEXT NOT NULL,
    fired_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    outcome TEXT,
    done_at BIGINT,
    UNIQUE (rule_id, customer_id, cause)
);
CREATE INDEX rule_firings_status ON rule_firings(rule_id, status, id);
CREATE INDEX rule_firings_customer ON rule_firings(customer_id);
