# 应用内通知：页头的铃铛和用户的通知列表。
notification-title = 通知
notification-unread = { $n } 条未读
notification-none_unread = 没有未读通知
notification-show_all = 显示全部
notification-show_unread = 只看未读
notification-read_all = 全部标为已读
notification-empty = 没有通知。规则提醒您关注客户时，通知会出现在这里。
notification-new = 新
notification-open = 打开客户
notification-mark_read = 标为已读
notification-older = 更早的通知
