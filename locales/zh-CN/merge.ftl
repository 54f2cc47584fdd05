### Duplicates and merge.
### Keys `area.name` in code are ids `area-name` here.

merge-title = 合并重复客户
merge-explain = 左边的记录保留，右边的记录并入后删除。逐项选择保留哪个值；标签合并。
merge-kept = 保留
merge-merged_away = 并入
merge-same = 两边相同
merge-tags_union = 两边的标签合并
merge-moves_title = 将移到保留记录的内容
merge-moves_contacts = { $n } 个联系方式
merge-moves_orders = { $n } 笔订单
merge-moves_interactions = { $n } 条互动记录
merge-moves_tasks = { $n } 个待办
merge-moves_relations = { $n } 个客户关系
merge-moves_tags = { $n } 个新标签
merge-moves_nothing = 另一条记录没有联系方式、订单、互动、待办或关系需要移动。
merge-undo_hint = 合并会记入审计日志，30 天内可在保留记录的页面撤销。
merge-submit = 合并
merge-swap = 改为保留右边的记录
merge-conflict = 有人刚修改了其中一条记录，下面是最新内容，请重新确认。
merge-compare = 对比并合并
merge-choose_hint = 选择要并入这位客户的重复记录。
merge-possible = 可能的重复记录
merge-none_found = 没有发现与其手机、邮箱、微信或证件号码相同的客户。
merge-find = 查找其他记录
merge-section = 重复与合并
merge-other = 合并其他记录…
merge-history = 已并入的记录
merge-undo = 撤销合并
merge-undo_until = 可撤销至 { $date }
