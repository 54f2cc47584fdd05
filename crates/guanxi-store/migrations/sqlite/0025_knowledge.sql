-- Issue #14: the knowledge base (FAQ). Articles in Chinese and English; `kb_terms` is the
-- search index, written with each save: every Han character and pair of neighbouring Han
-- characters, and every lower-cased Latin word, with its weight (occurrences, titles three
-- times) — the same on both backends (guanxi_domain::knowledge::terms). Votes are one per
-- user; links record which tickets an article answered. In step with ../postgres/0025.
CREATE TABLE kb_articles (
    id INTEGER PRIMARY KEY,
    title_zh TEXT,
    body_zh TEXT,
    title_en TEXT,
    body_en TEXT,
    category_id BIGINT REFERENCES ticket_categories(id),
    tags TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    views BIGINT NOT NULL DEFAULT 0,
    published_at BIGINT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    created_by BIGINT,
    updated_by BIGINT
);
CREATE INDEX kb_articles_status ON kb_articles(status, updated_at);

CREATE TABLE kb_terms (
    term TEXT NOT NULL,
    article_id BIGINT NOT NULL REFERENCES kb_articles(id) ON DELETE CASCADE,
    weight BIGINT NOT NULL,
    PRIMARY KEY (term, article_id)
);
CREATE INDEX kb_terms_article ON kb_terms(article_id);

CREATE TABLE kb_votes (
    article_id BIGINT NOT NULL REFERENCES kb_articles(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id),
    helpful INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (article_id, user_id)
);

CREATE TABLE kb_ticket_links (
    ticket_id BIGINT NOT NULL REFERENCES tickets(id),
    article_id BIGINT NOT NULL REFERENCES kb_articles(id) ON DELETE CASCADE,
    linked_by BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (ticket_id, article_id)
);
CREATE INDEX kb_ticket_links_article ON kb_ticket_links(article_id);
