### Interactions, tasks and the timeline.
### Keys `area.name` in code are ids `area-name` here.

interaction-body = 内容
interaction-channel = 渠道
interaction-direction = 方向
interaction-log = 记录互动
interaction-subject = 摘要（如：回访，询问新品）
tasks-count = 共 { $n } 条待办
tasks-done = 已完成
tasks-due_overdue = 已逾期
tasks-due_today = 今天及以前
tasks-due_week = 7 天内
tasks-overdue_count = { $n } 条已逾期
tasks-overdue_more = 超过 { $n } 条已逾期
tasks-reopen = 重新打开
tasks-status = 状态
tasks-status_all = 全部
tasks-status_done = 已完成
tasks-status_open = 未完成
tasks-title = 待办事项
tasks-who = 谁的待办
tasks-who_all = 我能看到的全部
tasks-who_mine = 我的
tasks-who_team = 我的团队
task-add = 添加待办
task-assignee = 执行人
task-due = 截止
task-mark_done = 完成
task-overdue = 已逾期
task-title = 待办事项
timeline-empty = 还没有订单或互动记录。
timeline-interaction = 互动
timeline-older = 更早的记录
timeline-order = 订单
timeline-task = 待办
