# The sales pipeline: opportunities, their stages, the timeline entries of their moves.
timeline-opportunity = Opportunity
label-stage_kind-open = Open
label-stage_kind-won = Won
label-stage_kind-lost = Lost
