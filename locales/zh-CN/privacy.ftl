### Data-subject requests.
### Keys `area.name` in code are ids `area-name` here.

dsr-title = 个人信息权利请求
dsr-export_hint = 下载本系统保存的该客户的全部信息（含审计记录，不打码）：
dsr-erase = 删除（匿名化）该客户
dsr-erase_warning = 删除后无法恢复：姓名、证件、联系方式、互动和待办的文字、客户关系与评分都会清除；订单保留用于财务，但不再关联到个人。
dsr-reason = 原因（保存在审计日志中）
dsr-confirm = 请输入客户姓名“{ $name }”以确认
dsr-erase_now = 永久删除
dsr-confirm_mismatch = 输入的姓名与客户姓名不一致，未删除。
dsr-erased = 客户已删除（匿名化）。
