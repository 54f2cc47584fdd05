-- A large campaign's figures (delivery, responses, conversions, revenue) as last computed
-- in the background: its page reads them instead of grouping a million outbox rows.
ALTER TABLE campaigns ADD COLUMN figures TEXT;
ALTER TABLE campaigns ADD COLUMN figures_at BIGINT;
