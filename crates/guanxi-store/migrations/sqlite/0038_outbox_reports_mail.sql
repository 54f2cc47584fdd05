-- A provider's report (a late bounce, a complaint, a delivery receipt, a reply) names the
-- message by the id the provider answered the send with: find it without a scan.
CREATE INDEX outbox_message_key ON outbox(message_key);

-- Direct mail (a mailing list for the printer): at most one letter a month, no quiet hours.
INSERT INTO contact_policies (channel, cap_count, cap_days, quiet_start, quiet_end, complaint_pause_days, soft_bounce_limit, max_errors, per_second, updated_at) VALUES
    ('mail', 1, 30, 0, 0, 30, 3, 100, 1000, 0);
