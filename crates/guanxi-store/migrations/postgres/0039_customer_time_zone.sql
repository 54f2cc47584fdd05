-- A customer's own time zone (IANA name) when it is not the shop's: quiet hours for
-- marketing are kept where the customer is.
ALTER TABLE customers ADD COLUMN time_zone TEXT;
