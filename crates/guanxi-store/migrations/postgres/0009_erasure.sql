-- When a customer was erased at their request (PIPL / GDPR): the row stays so orders keep
-- their customer for the books, but every personal value in it is gone. Erased customers are
-- never restored by an undelete. Keep in step with ../sqlite/0009_erasure.sql.
ALTER TABLE customers ADD COLUMN erased_at BIGINT;
