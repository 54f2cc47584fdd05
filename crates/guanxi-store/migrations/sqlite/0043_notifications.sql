-- Notifications in the app: a message for one user, usually about one customer (a rule's
-- action `notify`), read from the bell in the header and the /notifications page. The
-- dedupe key (e.g. `rule:<firing>:<action>`) makes a repeated write a no-op.
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    customer_id BIGINT REFERENCES customers(id),
    source TEXT NOT NULL,
    source_id BIGINT,
    message TEXT NOT NULL,
    dedupe_key TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    read_at BIGINT
);
CREATE INDEX notifications_user ON notifications(user_id, id);
CREATE INDEX notifications_unread ON notifications(user_id, id) WHERE read_at IS NULL;
CREATE INDEX notifications_customer ON notifications(customer_id);
