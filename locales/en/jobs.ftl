### The background job queue (admin page, states, kinds, refusals).
### Keys `area.name` in code are ids `area-name` here.

jobs-title = Background jobs
jobs-explain = Background work such as the score refresh runs through this queue: it carries on after a restart or crash, and the same work never runs twice at once.
jobs-id = ID
jobs-kind = Kind
jobs-state = State
jobs-attempts = Attempts
jobs-requested_by = Requested by
jobs-created = Queued
jobs-started = Started
jobs-finished = Finished
jobs-outcome = Outcome
jobs-retry = Retry
jobs-cancel = Cancel job
jobs-empty = No jobs match.
jobs-retried = The job is queued again.
jobs-cancelled = The job was cancelled.
label-job_state-queued = Queued
label-job_state-running = Running
label-job_state-done = Done
label-job_state-failed = Failed
label-job_state-cancelled = Cancelled
label-job_kind-scores-refresh = Customer score refresh
label-job_kind-segments-size = Saved segment sizes
label-job_kind-tickets-sla_sweep = Service desk SLA sweep
label-job_kind-tickets-sla_recompute = Service desk SLA recomputation
code-job_state = The job's state does not allow this: only failed or cancelled jobs can be retried, only queued ones cancelled.
code-job_active = An equal job is already queued or running; it will do this work.
label-job_kind-tickets-rollup = Service desk figures per day
label-job_kind-care-refresh = Care dates from the customer file
label-job_kind-care-plans = Care plans fired
