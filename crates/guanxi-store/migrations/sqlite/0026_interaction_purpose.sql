-- Issue #14: an interaction's purpose (enquiry, care, complaint, objection, sales, follow-up).
-- In step with the other backend's 0026.
ALTER TABLE interactions ADD COLUMN purpose TEXT;
