# 销售管道：销售机会、阶段，以及阶段变化在时间线上的记录。
timeline-opportunity = 销售机会
label-stage_kind-open = 进行中
label-stage_kind-won = 赢单
label-stage_kind-lost = 输单
