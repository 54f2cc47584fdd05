# Membership points.
points-title = Points
points-unit = points
points-debt = { $n } points owed (spent before a refund)
points-next_expiry = { $n } points expire on { $date }
points-none = No points yet.
points-left = { $n } left
points-left_until = { $n } left until { $date }
points-adjust_points = Points (+/−)
points-reason = Reason
points-adjust = Correct
flash-points_adjusted = Points corrected; the correction is in the ledger and the audit log.
flash-points_insufficient = Not corrected: the member has fewer points than that.
flash-points_invalid = Not corrected: give a number of points (not 0, at most 1,000,000) and a reason.
label-points_entry-accrue = Earned
label-points_entry-redeem = Redeemed
label-points_entry-expire = Expired
label-points_entry-reverse = Refund
label-points_entry-adjust = Correction
# Membership programmes and tiers.
loyalty-programs = Membership programme
loyalty-intro = One programme is active at a time. Orders from its start day earn points; every night members are placed in the tier their spend (or points) over the rolling window reaches, and are moved down only below the tier's keeping line.
loyalty-run_now = Evaluate tiers now
loyalty-no_programs = No membership programme yet. Set one up below.
loyalty-name = Name
loyalty-tiers = Tiers
loyalty-members = Members
loyalty-evaluated = Tiers evaluated
loyalty-active = Active
loyalty-paused = Paused
loyalty-edit = Edit
loyalty-edit_program = Edit programme
loyalty-new_program = New programme
loyalty-basis = Tiers go by
loyalty-window_days = Rolling window
loyalty-days = { $n ->
    [one] { $n } day
   *[other] { $n } days
}
loyalty-points_per_yuan = Points per yuan
loyalty-expiry_months = Points expire after (months, 0 = never)
loyalty-starts_on = Orders earn from
loyalty-active_hint = Active (pauses the programme active now)
loyalty-tiers_hint = Lowest tier first; it qualifies at 0. Thresholds are in yuan when tiers go by spend, in points when they go by points. A member moves up on reaching "qualify" and down only below "keep".
loyalty-tier_code = Code
loyalty-tier_name = Name
loyalty-qualify = Qualify at
loyalty-keep = Keep above
loyalty-accrual_percent = Earning rate %
loyalty-category_rates = Category rates
loyalty-category = Product category
loyalty-percent = Rate %
loyalty-promotions = Promotions
loyalty-promo_name = Promotion
loyalty-from = From
loyalty-to = To
loyalty-save = Save programme
loyalty-tier = Tier
loyalty-tier_since = since { $date }
flash-program_saved = Programme saved. Points and tiers follow at the next run, within minutes.
flash-program_run = Evaluation queued: points for new orders, expiry, then every member's tier.
label-tier_basis-spend = Spend
label-tier_basis-points = Points earned
label-tier_change-up = Moved up
label-tier_change-down = Moved down
label-tier_change-join = Joined
timeline-tier = Membership tier
nav-loyalty = Membership
