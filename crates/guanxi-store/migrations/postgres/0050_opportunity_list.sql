-- Issue #17: the deals list, newest change first, as one index range for everyone's deals, by
-- status, and for one owner by status.
CREATE INDEX opportunities_recent ON opportunities(updated_at, id);
CREATE INDEX opportunities_status_recent ON opportunities(status, updated_at, id);
CREATE INDEX opportunities_owner_recent ON opportunities(owner_id, status, updated_at, id);
