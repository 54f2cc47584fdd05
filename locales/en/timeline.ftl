### Interactions, tasks and the timeline.
### Keys `area.name` in code are ids `area-name` here.

interaction-body = Details
interaction-channel = Channel
interaction-direction = Direction
interaction-log = Log interaction
interaction-subject = Summary (e.g. follow-up call about new tea)
tasks-count =
    { $count ->
        [one] 1 task
       *[other] { $n } tasks
    }
tasks-done = done
tasks-due_overdue = Overdue
tasks-due_today = Due by today
tasks-due_week = Due within 7 days
tasks-overdue_count =
    { $count ->
        [one] 1 overdue
       *[other] { $n } overdue
    }
tasks-overdue_more = more than { $n } overdue
tasks-reopen = Reopen
tasks-status = Status
tasks-status_all = All
tasks-status_done = Done
tasks-status_open = Open
tasks-title = Tasks
tasks-who = Whose
tasks-who_all = Everyone I can see
tasks-who_mine = Mine
tasks-who_team = My team
task-add = Add task
task-assignee = Assignee
task-due = Due
task-mark_done = Done
task-overdue = overdue
task-title = Task
timeline-empty = No orders or interactions yet.
timeline-interaction = Interaction
timeline-older = Older entries
timeline-order = Order
timeline-task = Task
interaction-purpose = Purpose
label-interaction_purpose-enquiry = Enquiry
label-interaction_purpose-care = Care
label-interaction_purpose-complaint = Complaint
label-interaction_purpose-objection = Objection
label-interaction_purpose-sales = Sales
label-interaction_purpose-follow_up = Follow-up
