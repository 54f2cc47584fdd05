# 满意度调查。
timeline-survey = 问卷
label-survey_kind-csat = 满意度 (CSAT)
label-survey_kind-nps = 净推荐值 (NPS)
label-survey_kind-servqual = 服务质量 (SERVQUAL)
label-survey_kind-custom = 问卷
label-survey_trigger-manual = 手动发送
label-survey_trigger-ticket_resolved = 工单解决后
label-survey_trigger-order = 下单后
label-survey_dimension-tangibles = 有形性
label-survey_dimension-reliability = 可靠性
label-survey_dimension-responsiveness = 响应性
label-survey_dimension-assurance = 保证性
label-survey_dimension-empathy = 同理心
