### The background job queue (admin page, states, kinds, refusals).
### Keys `area.name` in code are ids `area-name` here.

jobs-title = 后台任务
jobs-explain = 评分计算等后台工作都在这个队列里运行：服务器重启或崩溃后会自动接着做，同一项工作不会同时运行两次。
jobs-id = 编号
jobs-kind = 类型
jobs-state = 状态
jobs-attempts = 尝试次数
jobs-requested_by = 发起人
jobs-created = 加入时间
jobs-started = 开始时间
jobs-finished = 结束时间
jobs-outcome = 结果
jobs-retry = 重试
jobs-cancel = 取消任务
jobs-empty = 没有符合条件的任务。
jobs-retried = 任务已重新排队。
jobs-cancelled = 任务已取消。
label-job_state-queued = 排队中
label-job_state-running = 运行中
label-job_state-done = 已完成
label-job_state-failed = 失败
label-job_state-cancelled = 已取消
label-job_kind-scores-refresh = 客户评分计算
label-job_kind-segments-size = 已存分群人数统计
label-job_kind-tickets-sla_sweep = 服务台 SLA 巡检
label-job_kind-tickets-sla_recompute = 服务台 SLA 重新计算
code-job_state = 这个任务当前的状态不允许此操作：只能重试失败或已取消的任务，只能取消排队中的任务。
code-job_active = 同类任务已在排队或运行中，它会完成这项工作。
label-job_kind-tickets-rollup = 服务台每日数据汇总
label-job_kind-care-refresh = 从客户档案更新关怀日期
label-job_kind-care-plans = 执行关怀计划
