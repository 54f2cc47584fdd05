# Rules.
nav-rules = Rules
rule-title = Rules
rule-intro = A rule acts by itself when something happens to a customer: a task for the owner, a tag, points. It acts once per customer and cause — entering a set on a day, an order, a ticket, a threshold — however often it runs. Rules on orders and tickets act within minutes of them; rules on segments, scores and thresholds compare the customers every hour. Try a rule with the dry run before switching it on.
rule-all_rules = All rules
rule-no_rules = No rules yet. Set one up below.
rule-name = Name
rule-trigger = When
rule-actions = Then
rule-fired = Fired
rule-failed_n = { $n ->
    [one] { $n } failed
   *[other] { $n } failed
}
rule-active = On
rule-paused = Paused
rule-edit = Edit rule
rule-new = New rule
rule-when = When
rule-trigger_segment = Segment
rule-percent = Churn risk at least (%)
rule-amount = Amount (¥)
rule-count = Complaints
rule-days = Within days
rule-ticket_kind = Ticket kind
rule-any = Any
rule-occasion = Occasion
rule-days_before_label = Days before
rule-audience = Only customers in
rule-everyone = Every customer
rule-then = Then
rule-actions_hint = Up to three actions, in order. Task: the title and the days until it is due. Tag: the tag. Points: how many, and the months until they expire (0: never). Coupon: the offer.
rule-action = Action
rule-action_text = Title, tag or message
rule-action_number = Days or points
rule-action_months = Expire after (months)
rule-active_hint = On (runs by itself)
rule-preview_button = Dry run
rule-save = Save rule
rule-preview = { $n ->
    [one] Would fire for { $n } customer now.
   *[other] Would fire for { $n } customers now.
}
rule-preview_events = Would have fired for { $n } customers over the last { $days } days.
rule-segment_gone = A segment this rule names is gone or no longer valid: the rule would not run.
rule-log = Firing log
rule-no_firings = It has not fired yet.
rule-when_fired = Fired
rule-customer = Customer
rule-cause = Cause
rule-status = Status
rule-outcome = What was done
rule-complaints_in = { $n } in { $days } days
rule-days_before = { $occasion }, { $n } days before
rule-due_in = { $n ->
    [one] due in { $n } day
   *[other] due in { $n } days
}
label-rule_trigger-segment_entered = Entered a segment
label-rule_trigger-segment_left = Left a segment
label-rule_trigger-churn_risk = Churn risk
label-rule_trigger-turned_dormant = Turned dormant
label-rule_trigger-orders_falling = Orders falling
label-rule_trigger-spend_reached = Cumulative spend reached
label-rule_trigger-complaints_reached = Complaints
label-rule_trigger-order_placed = Order placed
label-rule_trigger-order_anomaly = Unusual order
label-rule_trigger-ticket_opened = Ticket opened
label-rule_trigger-ticket_resolved = Ticket resolved
label-rule_trigger-occasion = Date coming up
label-rule_action-task = Task for the owner
label-rule_action-add_tag = Add tag
label-rule_action-remove_tag = Remove tag
label-rule_action-award_points = Award points
label-rule_firing-pending = Waiting
label-rule_firing-done = Done
label-rule_firing-failed = Failed
rule-survey = Survey
label-rule_action-send_survey = Send a survey
label-rule_action-notify = Notify in the app
label-rule_action-enrol_campaign = Enrol in a campaign
rule-notify_user = Notify whom
rule-notify_owner = The customer's owner
rule-campaign = Campaign
