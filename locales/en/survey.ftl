# Satisfaction surveys.
timeline-survey = Survey
label-survey_kind-csat = CSAT
label-survey_kind-nps = NPS
label-survey_kind-servqual = SERVQUAL
label-survey_kind-custom = Survey
label-survey_trigger-manual = Sent by hand
label-survey_trigger-ticket_resolved = When a ticket is resolved
label-survey_trigger-order = After an order
label-survey_dimension-tangibles = Tangibles
label-survey_dimension-reliability = Reliability
label-survey_dimension-responsiveness = Responsiveness
label-survey_dimension-assurance = Assurance
label-survey_dimension-empathy = Empathy
