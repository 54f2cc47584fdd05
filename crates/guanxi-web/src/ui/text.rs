//! The page texts, zh-CN and en. Keys are `area.name`; field-level validation codes (no dot)
//! fall through to the API's catalogue in [`crate::i18n`], so a field error reads the same in a
//! page and in a JSON response. Vocabulary codes get their labels from [`label`].

use crate::i18n::{message, Locale};

/// Looks a key up; `None` for unknown keys (tests assert every used key is known).
pub fn lookup(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "action.cancel" => ("取消", "Cancel"),
        "error.request_id" => ("请求编号（反馈问题时请提供）：", "Request id (quote it when reporting a problem):"),
        "nav.jobs" => ("后台任务", "Jobs"),
        "jobs.title" => ("后台任务", "Background jobs"),
        "jobs.explain" => (
            "评分计算等后台工作都在这个队列里运行：服务器重启或崩溃后会自动接着做，同一项工作不会同时运行两次。",
            "Background work such as the score refresh runs through this queue: it carries on after a restart or crash, and the same work never runs twice at once.",
        ),
        "jobs.id" => ("编号", "ID"),
        "jobs.kind" => ("类型", "Kind"),
        "jobs.state" => ("状态", "State"),
        "jobs.attempts" => ("尝试次数", "Attempts"),
        "jobs.requested_by" => ("发起人", "Requested by"),
        "jobs.created" => ("加入时间", "Queued"),
        "jobs.started" => ("开始时间", "Started"),
        "jobs.finished" => ("结束时间", "Finished"),
        "jobs.outcome" => ("结果", "Outcome"),
        "jobs.retry" => ("重试", "Retry"),
        "jobs.cancel" => ("取消任务", "Cancel job"),
        "jobs.empty" => ("没有符合条件的任务。", "No jobs match."),
        "jobs.retried" => ("任务已重新排队。", "The job is queued again."),
        "jobs.cancelled" => ("任务已取消。", "The job was cancelled."),
        "action.search" => ("搜索", "Search"),
        "field.profile" => ("个人档案", "Personal profile"),
        "field.company" => ("企业档案", "Company profile"),
        "merge.title" => ("合并重复客户", "Merge duplicate customers"),
        "merge.explain" => (
            "左边的记录保留，右边的记录并入后删除。逐项选择保留哪个值；标签合并。",
            "The record on the left is kept; the one on the right is merged into it and deleted. Choose which value to keep for each field; tags are combined.",
        ),
        "merge.kept" => ("保留", "kept"),
        "merge.merged_away" => ("并入", "merged in"),
        "merge.same" => ("两边相同", "same on both"),
        "merge.tags_union" => ("两边的标签合并", "tags of both records"),
        "merge.moves_title" => ("将移到保留记录的内容", "What moves to the kept record"),
        "merge.moves_contacts" => ("{n} 个联系方式", "{n} contact points"),
        "merge.moves_contacts.one" => ("{n} 个联系方式", "{n} contact point"),
        "merge.moves_orders" => ("{n} 笔订单", "{n} orders"),
        "merge.moves_orders.one" => ("{n} 笔订单", "{n} order"),
        "merge.moves_interactions" => ("{n} 条互动记录", "{n} interactions"),
        "merge.moves_interactions.one" => ("{n} 条互动记录", "{n} interaction"),
        "merge.moves_tasks" => ("{n} 个待办", "{n} tasks"),
        "merge.moves_tasks.one" => ("{n} 个待办", "{n} task"),
        "merge.moves_relations" => ("{n} 个客户关系", "{n} relations"),
        "merge.moves_relations.one" => ("{n} 个客户关系", "{n} relation"),
        "merge.moves_tags" => ("{n} 个新标签", "{n} new tags"),
        "merge.moves_tags.one" => ("{n} 个新标签", "{n} new tag"),
        "merge.moves_nothing" => (
            "另一条记录没有联系方式、订单、互动、待办或关系需要移动。",
            "The other record has no contact points, orders, interactions, tasks or relations to move.",
        ),
        "merge.undo_hint" => (
            "合并会记入审计日志，30 天内可在保留记录的页面撤销。",
            "The merge is audited and can be undone from the kept record's page for 30 days.",
        ),
        "merge.submit" => ("合并", "Merge"),
        "merge.swap" => ("改为保留右边的记录", "Keep the other record instead"),
        "merge.conflict" => (
            "有人刚修改了其中一条记录，下面是最新内容，请重新确认。",
            "Someone changed one of these records meanwhile; below is the latest. Check and merge again.",
        ),
        "merge.compare" => ("对比并合并", "Compare and merge"),
        "merge.choose_hint" => (
            "选择要并入这位客户的重复记录。",
            "Choose the duplicate record to merge into this customer.",
        ),
        "merge.possible" => ("可能的重复记录", "Possible duplicates"),
        "merge.none_found" => (
            "没有发现与其手机、邮箱、微信或证件号码相同的客户。",
            "No customer shares this one's mobile, email, WeChat or ID number.",
        ),
        "merge.find" => ("查找其他记录", "Find another record"),
        "merge.section" => ("重复与合并", "Duplicates and merges"),
        "merge.other" => ("合并其他记录…", "Merge another record…"),
        "merge.history" => ("已并入的记录", "Records merged into this one"),
        "merge.undo" => ("撤销合并", "Undo merge"),
        "merge.undo_until" => ("可撤销至 {date}", "can be undone until {date}"),
        "flash.merged" => (
            "已合并。30 天内可在下方“重复与合并”中撤销。",
            "Merged. You can undo it under “Duplicates and merges” below for 30 days.",
        ),
        "flash.unmerged" => (
            "合并已撤销，这条记录已恢复。",
            "The merge was undone; this record is back.",
        ),
        "duplicates.create_and_merge" => ("新建后与其合并", "Create, then merge with it"),
        "action.edit" => ("编辑", "Edit"),
        "action.save" => ("保存", "Save"),
        "admin.audit" => ("审计日志", "Audit log"),
        "admin.create_team" => ("新建团队", "Create team"),
        "admin.create_user" => ("创建用户", "Create user"),
        "admin.new_user" => ("新用户", "New user"),
        "admin.team_name" => ("团队名称", "Team name"),
        "admin.teams" => ("团队", "Teams"),
        "admin.users" => ("用户与权限", "Users and roles"),
        "anniversary.in_days" => ("还有 {n} 天", "in {n} days"),
        "anniversary.lunar" => ("农历", "Lunar"),
        "anniversary.none" => ("近期没有纪念日。", "No anniversaries coming up."),
        "anniversary.today" => ("就是今天", "today"),
        "app.name" => ("关系 Guanxi", "Guanxi 关系"),
        "audit.action" => ("操作", "Action"),
        "audit.actor" => ("操作人", "Who"),
        "audit.at" => ("时间", "When"),
        "audit.detail" => ("详情", "Detail"),
        "audit.empty" => ("没有符合条件的记录。", "No entries match."),
        "audit.entity" => ("对象", "Record type"),
        "audit.entity_id" => ("对象编号", "Record id"),
        "audit.since" => ("起始日期", "From"),
        "audit.until" => ("截止日期", "To"),
        "bulk.add_tag" => ("添加标签", "Add tag"),
        "bulk.apply_owner" => ("分配", "Assign"),
        "bulk.apply_tag" => ("打标签", "Tag"),
        "bulk.assign_owner" => ("分配给", "Assign to"),
        "bulk.done" => ("已更新 {n} 位客户。", "{n} customers updated."),
        "bulk.done.one" => ("已更新 1 位客户。", "1 customer updated."),
        "bulk.failed" => (
            "{n} 位未能更新（无权限或已被他人修改）。",
            "{n} could not be updated (no permission or changed by someone else).",
        ),
        "bulk.select_all" => ("全选", "Select all"),
        "bulk.title" => ("批量操作（勾选的客户）", "Bulk action on ticked customers"),
        "company.assets" => ("资产", "Assets"),
        "company.assets_yuan" => ("资产（元）", "Assets (yuan)"),
        "company.business_status" => ("经营状态", "Business status"),
        "company.credit_incident" => ("信用事件", "Credit incident"),
        "company.credit_status" => ("信用状况", "Credit standing"),
        "company.days" => ("{n} 天", "{n} days"),
        "company.employees" => ("员工人数", "Employees"),
        "company.founded" => ("成立日期", "Founded"),
        "company.legal_form" => ("企业类型", "Legal form"),
        "company.payment_terms" => ("付款期限（天）", "Payment terms (days)"),
        "company.service_area" => ("服务区域", "Service area"),
        "company.size" => ("规模", "Size"),
        "company.traits" => ("企业特点", "Traits"),
        "company.website" => ("网站", "Website"),
        "conflict.field" => ("字段", "Field"),
        "conflict.mine" => ("您填写的", "Yours"),
        "conflict.or" => ("或", "or"),
        "conflict.overwrite" => ("仍然保存我的修改", "Save mine anyway"),
        "conflict.reload" => ("重新载入（放弃我的修改）", "Reload (discard mine)"),
        "conflict.someone" => ("其他人", "someone else"),
        "conflict.theirs" => ("当前保存的", "Saved now"),
        "conflict.title" => (
            "这条记录在您编辑期间已被修改：",
            "This record was changed while you were editing it:",
        ),
        "contact.add" => ("添加", "Add"),
        "contact.changed_elsewhere" => (
            "已被他人修改，显示的是最新状态。",
            "Changed by someone else; showing the latest.",
        ),
        "contact.consent" => ("同意营销", "Marketing consent"),
        "contact.consent_no" => ("未同意", "No consent"),
        "contact.consent_toggle" => ("点击切换营销同意", "Click to switch marketing consent"),
        "contact.consent_yes" => ("已同意", "Consented"),
        "contact.kind" => ("类型", "Type"),
        "contact.none" => ("还没有联系方式。", "No contact points yet."),
        "contact.primary" => ("主要", "primary"),
        "contact.value" => ("号码 / 地址", "Number / address"),
        "contact_kind.email" => ("邮箱", "Email"),
        "contact_kind.mobile" => ("手机", "Mobile"),
        "contact_kind.phone" => ("电话", "Phone"),
        "contact_kind.wechat" => ("微信", "WeChat"),
        "customer.title" => ("客户", "Customer"),
        "customers.empty" => ("没有符合条件的客户。", "No customers match."),
        "customers.new_company" => ("新建企业客户", "New company"),
        "customers.new_individual" => ("新建个人客户", "New individual"),
        "customers.title" => ("客户列表", "Customers"),
        "dashboard.by_stage" => ("客户生命周期", "Customers by lifecycle stage"),
        "dashboard.customers" => ("客户", "Customers"),
        "dashboard.empty" => ("还没有客户。", "No customers yet."),
        "dashboard.empty_hint" => (
            "也可以用 guanxi import customers 导入，或运行 guanxi demo 查看示例数据。",
            "You can also import with guanxi import customers, or run guanxi demo for sample data.",
        ),
        "stage.rule" => (
            "生命周期阶段随购买自动更新（每次评分刷新）：只买过一次且在 90 天内为“新客户”；按自身购买节奏活跃或稍有逾期为“活跃”；沉睡为“沉睡”；流失为“流失”。没有订单的客户保留手动设置的阶段。",
            "The lifecycle stage follows the purchases at each score refresh: one order within 90 days is “new”; buying at their own rhythm or a little overdue is “active”; dormant is “dormant”; lost is “lost”. Customers without orders keep the stage set by hand.",
        ),
        "customers.total" => ("共 {n} 位客户", "{n} customers"),
        "customers.total.one" => ("共 1 位客户", "1 customer"),
        "customers.total_capped" => ("超过 {n} 位客户", "More than {n} customers"),
        "bulk.all_matching" => ("应用到全部 {n} 位符合条件的客户（不只是本页勾选的）", "Apply to all {n} matching customers (not only those ticked on this page)"),
        "bulk.too_many" => ("符合条件的客户超过 {n} 位，请缩小筛选范围后再批量操作。", "More than {n} customers match; narrow the filter for a bulk action."),
        "dsr.title" => ("个人信息权利请求", "Data-subject request"),
        "dsr.export_hint" => (
            "下载本系统保存的该客户的全部信息（含审计记录，不打码）：",
            "Download everything held about this customer (unmasked, with audit entries):",
        ),
        "dsr.erase" => ("删除（匿名化）该客户", "Erase this customer"),
        "dsr.erase_warning" => (
            "删除后无法恢复：姓名、证件、联系方式、互动和待办的文字、客户关系与评分都会清除；订单保留用于财务，但不再关联到个人。",
            "This cannot be undone: name, ID, contact points, the text of interactions and tasks, relations and scores are removed; orders are kept for the books but no longer point to a person.",
        ),
        "dsr.reason" => ("原因（保存在审计日志中）", "Reason (kept in the audit log)"),
        "dsr.confirm" => ("请输入客户姓名“{name}”以确认", "Type the customer's name “{name}” to confirm"),
        "dsr.erase_now" => ("永久删除", "Erase for good"),
        "dsr.confirm_mismatch" => ("输入的姓名与客户姓名不一致，未删除。", "The name typed does not match; nothing was erased."),
        "dsr.erased" => ("客户已删除（匿名化）。", "The customer was erased."),
        "dossier.customer" => ("客户", "Customer"),
        "dossier.contact_points" => ("联系方式", "Contact points"),
        "dossier.relations" => ("客户关系", "Relations"),
        "dossier.orders" => ("订单", "Orders"),
        "dossier.order_lines" => ("订单明细", "Order lines"),
        "dossier.interactions" => ("互动记录", "Interactions"),
        "dossier.tasks" => ("待办", "Tasks"),
        "dossier.scores" => ("评分", "Scores"),
        "dossier.audit" => ("审计记录", "Audit entries"),
        "duplicates.title" => ("可能是已有客户：", "This may be a customer you already have:"),
        "duplicates.hint" => (
            "打开已有客户继续，或确认这是另一位客户：",
            "Open the existing customer, or confirm this is someone else:",
        ),
        "duplicates.create_anyway" => ("仍然新建", "Create anyway"),
        "duplicates.mobile" => ("手机/电话相同", "same mobile or phone"),
        "duplicates.email" => ("邮箱相同", "same email"),
        "duplicates.wechat" => ("微信相同", "same WeChat"),
        "duplicates.id_number" => ("证件号码相同", "same ID number"),
        "dashboard.all_tasks" => ("全部待办 »", "All tasks »"),
        "dashboard.my_tasks" => ("我的待办", "My open tasks"),
        "dashboard.new_customers" => ("新客户", "New customers"),
        "dashboard.new_per_month" => ("每月新客户", "New customers per month"),
        "dashboard.no_tasks" => ("没有待办事项。", "Nothing to do."),
        "dashboard.open_tasks" => ("待办", "Open tasks"),
        "dashboard.orders" => ("订单", "Orders"),
        "dashboard.revenue" => ("销售额", "Revenue"),
        "dashboard.revenue_per_month" => ("每月销售额与订单数", "Revenue and orders per month"),
        "dashboard.month_to_date" => ("{m}（至今）", "{m} (to date)"),
        "dashboard.revenue_yuan" => ("销售额（元）", "Revenue (yuan)"),
        "dashboard.title" => ("工作台", "Dashboard"),
        "error.bad_form" => (
            "提交的内容无法识别。",
            "The request could not be understood.",
        ),
        "error.bad_query" => (
            "链接中的筛选条件有误：",
            "This link's filter cannot be used:",
        ),
        "error.csrf" => (
            "安全校验失败，请刷新页面后重试。",
            "Security check failed; reload the page and try again.",
        ),
        "error.forbidden" => (
            "您没有权限查看此页面。",
            "You do not have permission to see this page.",
        ),
        "error.home" => ("返回工作台", "Back to the dashboard"),
        "error.internal" => (
            "服务器出错了，已记录，请稍后再试。",
            "Something went wrong on our side; it has been logged.",
        ),
        "error.not_found" => (
            "找不到该页面或记录，或您无权查看。",
            "Not found, or you may not see it.",
        ),
        "field.address" => ("地址", "Address"),
        "segfield.city" => ("城市", "City"),
        "segfield.order_month" => ("下单月份", "Order months"),
        "segfield.created_month" => ("建档月份", "Month created"),
        "segfield.province" => ("省份", "Province"),
        "segfield.industry" => ("行业", "Industry"),
        "segfield.employer" => ("工作单位", "Employer"),
        "segfield.job_title" => ("职务", "Job title"),
        "segfield.kind" => ("客户类型", "Kind"),
        "segfield.gender" => ("性别", "Gender"),
        "segfield.lifecycle_stage" => ("生命周期", "Lifecycle stage"),
        "segfield.source_channel" => ("来源渠道", "Source channel"),
        "segfield.owner" => ("负责人", "Owner"),
        "segfield.tag" => ("标签", "Tag"),
        "segfield.consent" => ("营销同意（渠道）", "Marketing consent (channel)"),
        "segfield.rfm_segment" => ("RFM 分群", "RFM segment"),
        "segfield.value_cell" => ("价值矩阵", "Value matrix cell"),
        "segfield.tier" => ("价值等级", "Value tier"),
        "segfield.activity" => ("活跃状态", "Activity"),
        "segfield.clv" => ("终身价值（元）", "Lifetime value (yuan)"),
        "segfield.churn_probability" => ("流失概率（0–1）", "Churn probability (0–1)"),
        "segfield.bought_product" => ("商品（SKU）", "Product (SKU)"),
        "segfield.bought_category" => ("商品类别", "Product category"),
        "segfield.order_count" => ("订单数", "Number of orders"),
        "segfield.total_spend" => ("累计消费（元）", "Total spent (yuan)"),
        "segfield.last_order" => ("最近下单", "Last order"),
        "segfield.birthday" => ("生日", "Birthday"),
        "segfield.created" => ("建档时间", "Created"),
        "segfield.group" => ("条件组", "Group"),
        "segop.eq" => ("等于", "is"),
        "segop.ne" => ("不等于", "is not"),
        "segop.in" => ("属于（逗号分隔）", "is one of (comma-separated)"),
        "segop.contains" => ("包含", "contains"),
        "segop.empty" => ("为空", "is empty"),
        "segop.not_empty" => ("不为空", "is not empty"),
        "segop.has" => ("有", "has"),
        "segop.not_has" => ("没有", "does not have"),
        "segop.granted" => ("已同意", "granted for"),
        "segop.not_granted" => ("未同意", "not granted for"),
        "segop.gte" => ("≥", "at least"),
        "segop.lte" => ("≤", "at most"),
        "segop.bought" => ("买过", "bought"),
        "segop.not_bought" => ("没买过", "not bought"),
        "segop.within" => ("在", "within"),
        "segop.during" => ("包括", "includes"),
        "segop.not_during" => ("不包括", "excludes"),
        "segop.not_within" => ("不在", "not within"),
        "segop.not" => ("不满足", "not"),
        "segop.match" => ("满足", "match"),
        "segment.title" => ("客户细分", "Segment"),
        "segment.list_title" => ("客户细分", "Segments"),
        "segment.new" => ("新建细分", "New segment"),
        "segment.edit" => ("编辑细分", "Edit segment"),
        "segment.name" => ("名称", "Name"),
        "segment.description" => ("说明", "Description"),
        "segment.match" => ("匹配", "Match"),
        "segment.match_all" => ("满足全部条件", "all conditions"),
        "segment.match_any" => ("满足任一条件", "any condition"),
        "segment.clauses" => ("条件", "Conditions"),
        "segment.version" => ("版本", "Version"),
        "segment.rule" => ("规则", "Rule"),
        "segment.add_clause" => ("添加条件", "Add condition"),
        "segment.remove_clause" => ("删除这条条件", "Remove this condition"),
        "segment.days" => ("近 N 天（可选）", "Last N days (optional)"),
        "segment.value" => ("值", "Value"),
        "segment.field" => ("字段", "Field"),
        "segment.op" => ("条件", "Condition"),
        "segment.size" => ("人数", "Size"),
        "segment.size_now" => ("当前 {n} 位客户", "{n} customers now"),
        "segment.size_now.one" => ("当前 1 位客户", "1 customer now"),
        "segment.scope_note" => ("人数按你可见的客户计算；评分类条件取最近一次评分刷新。", "Sizes count the customers you may see; score conditions use the latest score refresh."),
        "segment.open_customers" => ("查看客户", "Open customers"),
        "segment.export_csv" => ("导出 CSV", "Export CSV"),
        "segment.delete" => ("删除细分", "Delete segment"),
        "segment.delete_confirm" => ("确定删除这个细分？客户资料不受影响。", "Delete this segment? The customers are not affected."),
        "segment.saved" => ("已保存。", "Saved."),
        "segment.empty" => ("还没有细分。新建一个，按资料、同意、标签、评分和购买记录圈选客户。", "No segments yet. Create one to select customers by profile, consent, tags, scores and purchases."),
        "segment.everyone" => ("所有客户", "Every customer"),
        "segment.and" => (" 且 ", " and "),
        "segment.or" => (" 或 ", " or "),
        "segment.not" => ("非", "not "),
        "segment.any_channel" => ("任一渠道", "any channel"),
        "segment.days_unit" => ("天内", "days"),
        "segment.in_last_days" => ("（近 {n} 天）", " (last {n} days)"),
        "segment.clause_problem" => ("第 {n} 条条件（{field}）：{message}", "Condition {n} ({field}): {message}"),
        "segment.invalid_rule" => ("规则已失效，请编辑", "Rule no longer valid; edit it"),
        "segment.updated" => ("最近修改", "Last changed"),
        "segment.preview_title" => ("预览", "Preview"),
        "segment.group" => ("条件组", "Group"),
        "segment.group_match" => ("满足", "matches"),
        "segment.group_not" => ("不满足", "does not match"),
        "segment.group_joiner" => ("组内", "within the group"),
        "segment.add_group" => ("添加条件组（或 / 且）", "Add a group (or / and)"),
        "segment.group_readonly" => ("多层嵌套的条件组（可通过 API 编辑）", "Nested groups within a group (edit through the API)"),
        "segment.clauses_label" => ("条件", "Conditions"),
        "nav.segments" => ("客户细分", "Segments"),
        "field.id" => ("编号", "Id"),
        "field.consent_marketing" => ("同意营销", "Marketing consent"),
        "field.rfm_segment" => ("RFM 分群", "RFM segment"),
        "field.clv" => ("终身价值（元）", "Lifetime value (yuan)"),
        "common.yes" => ("是", "Yes"),
        "common.no" => ("否", "No"),
        "field.birthday" => ("生日", "Birthday"),
        "field.birthday_lunar" => ("农历生日", "Lunar birthday"),
        "field.city" => ("城市", "City"),
        "field.created_at" => ("创建时间", "Created"),
        "field.customer" => ("客户", "Customer"),
        "field.email" => ("邮箱", "Email"),
        "field.employer" => ("工作单位", "Employer"),
        "field.gender" => ("性别", "Gender"),
        "field.id_number" => ("证件号码", "ID number"),
        "field.industry" => ("行业", "Industry"),
        "field.job_title" => ("职务", "Job title"),
        "field.kind" => ("类型", "Kind"),
        "field.lifecycle_stage" => ("生命周期", "Lifecycle stage"),
        "field.name" => ("名称", "Name"),
        "field.owner" => ("负责人", "Owner"),
        "field.phone" => ("电话", "Phone"),
        "field.province" => ("省份", "Province"),
        "field.source_channel" => ("来源渠道", "Source channel"),
        "field.source_indirect" => (
            "间接获得（非客户本人提供）",
            "Indirect (not from the customer)",
        ),
        "field.tag" => ("标签", "Tag"),
        "field.tags" => ("标签", "Tags"),
        "field.tier" => ("价值等级", "Value tier"),
        "field.updated_at" => ("最近修改", "Last changed"),
        "filter.any" => ("全部", "Any"),
        "filter.apply" => ("筛选", "Apply"),
        "filter.asc" => ("升序", "Ascending"),
        "filter.columns" => ("显示的列", "Columns"),
        "filter.default" => ("默认", "Default"),
        "filter.desc" => ("降序", "Descending"),
        "filter.order" => ("顺序", "Order"),
        "filter.q" => ("姓名 / 拼音 / 电话", "Name / pinyin / phone"),
        "filter.reset" => ("清除", "Reset"),
        "filter.sort" => ("排序", "Sort by"),
        "flash.contact_added" => ("联系方式已添加。", "Contact point added."),
        "flash.created" => ("客户已创建。", "Customer created."),
        "flash.interaction_logged" => ("互动已记录。", "Interaction logged."),
        "flash.saved" => ("已保存。", "Saved."),
        "flash.task_added" => ("待办已添加。", "Task added."),
        "flash.team_saved" => ("团队已创建。", "Team created."),
        "flash.user_saved" => ("用户已保存。", "User saved."),
        "form.edit" => ("编辑客户", "Edit customer"),
        "form.has_errors" => (
            "有字段需要修改，请看标红的地方。",
            "Some fields need fixing; see the marked ones.",
        ),
        "form.new_company" => ("新建企业客户", "New company customer"),
        "form.new_individual" => ("新建个人客户", "New individual customer"),
        "hint.anniversary" => (
            "格式：1985-03-08，或不知年份时 03-08",
            "Format: 1985-03-08, or 03-08 without the year",
        ),
        "hint.career" => (
            "每行一条：单位 | 职务 | 2015-2020",
            "One per line: employer | title | 2015-2020",
        ),
        "hint.education" => (
            "每行一条：学校 | 学历 | 专业 | 2001-2005",
            "One per line: school | degree | major | 2001-2005",
        ),
        "hint.list" => ("多项用逗号或顿号分隔", "Separate several with commas"),
        "interaction.body" => ("内容", "Details"),
        "interaction.channel" => ("渠道", "Channel"),
        "interaction.direction" => ("方向", "Direction"),
        "interaction.log" => ("记录互动", "Log interaction"),
        "interaction.subject" => (
            "摘要（如：回访，询问新品）",
            "Summary (e.g. follow-up call about new tea)",
        ),
        "login.expired" => (
            "登录表单已过期，请重新输入后登录。",
            "The sign-in form had expired; please sign in again.",
        ),
        "login.missing" => ("请输入用户名和密码。", "Enter your username and password."),
        "login.password" => ("密码", "Password"),
        "login.submit" => ("登录", "Sign in"),
        "login.tagline" => ("客户关系管理", "Customer relationship management"),
        "login.title" => ("登录", "Sign in"),
        "login.username" => ("用户名", "Username"),
        "match.email" => ("邮箱", "email"),
        "match.initials" => ("拼音首字母", "initials"),
        "match.name" => ("姓名", "name"),
        "match.name_part" => ("姓名部分", "part of name"),
        "match.phone" => ("电话", "phone"),
        "match.pinyin" => ("拼音", "pinyin"),
        "match.pinyin_part" => ("拼音部分", "part of pinyin"),
        "match.other" => ("匹配", "match"),
        "nav.audit" => ("审计", "Audit"),
        "nav.customers" => ("客户", "Customers"),
        "nav.dashboard" => ("工作台", "Dashboard"),
        "nav.logout" => ("退出", "Sign out"),
        "nav.main" => ("主导航", "Main navigation"),
        "nav.new_customer" => ("新建客户", "New customer"),
        "nav.skip" => ("跳到正文", "Skip to content"),
        "nav.users" => ("用户", "Users"),
        "pager.first" => ("第一页", "First page"),
        "pager.next" => ("下一页", "Next page"),
        "profile.child" => ("子女", "Child"),
        "profile.communication_style" => ("沟通方式", "Communication style"),
        "profile.drinks" => ("饮品", "Drinks"),
        "profile.employer" => ("单位", "Employer"),
        "profile.favourite_colour" => ("喜欢的颜色", "Favourite colour"),
        "profile.food" => ("饮食", "Food"),
        "profile.hobbies" => ("爱好", "Hobbies"),
        "profile.marital_status" => ("婚姻状况", "Marital status"),
        "profile.notes" => ("备注", "Notes"),
        "profile.room_preference" => ("房间偏好", "Room preference"),
        "profile.school" => ("学校", "School"),
        "profile.spouse_birthday" => ("配偶生日", "Spouse's birthday"),
        "profile.spouse_name" => ("配偶姓名", "Spouse's name"),
        "profile.temperature_preference" => ("温度偏好", "Temperature preference"),
        "profile.traits" => ("性格特点", "Traits"),
        "profile.wedding_anniversary" => ("结婚纪念日", "Wedding anniversary"),
        "relation.incoming" => ("对方关系", "their side"),
        "relation.none" => ("还没有关联的客户。", "No related customers yet."),
        "scores.activity" => ("活跃状态", "Activity"),
        "scores.churn" => ("流失风险", "Churn risk"),
        "scores.clv" => ("客户终身价值", "Customer lifetime value"),
        "scores.computed_at" => ("计算时间", "Computed"),
        "scores.days_ago" => ("{n} 天前", "{n} days ago"),
        "scores.frequency" => ("购买次数", "Orders"),
        "scores.monetary" => ("累计消费", "Total spend"),
        "scores.none" => (
            "还没有评分：客户尚无订单，或评分尚未计算（guanxi scores refresh）。",
            "No scores yet: no orders, or scores not computed yet (guanxi scores refresh).",
        ),
        "scores.p_alive" => ("仍活跃概率", "P(alive)"),
        "scores.recency" => ("最近购买", "Last purchase"),
        "scores.rfm" => ("RFM 分值", "RFM scores"),
        "scores.rfm_segment" => ("RFM 细分", "RFM segment"),
        "scores.title" => ("客户评分", "Scores"),
        "scores.value_cell" => ("价值矩阵", "Value matrix"),
        "search.choose" => ("选择客户", "Choose the customer"),
        "search.in_list" => ("在客户列表中查看", "Show in the customer list"),
        "search.new_with_number" => ("用这个号码新建客户", "New customer with this number"),
        "search.tie" => ("“{q}”同样匹配 {n} 位客户，请选择：", "{n} customers match “{q}” equally well; choose one:"),
        "search.unknown_number" => ("没有客户使用号码 {q}。", "No customer has the number {q}."),
        "search.hint" => ("按 / 键快速搜索", "Press / to search"),
        "search.label" => ("识别客户", "Identify a customer"),
        "search.none" => ("没有找到。", "No match."),
        "search.placeholder" => (
            "电话、邮箱、姓名、拼音或首字母…",
            "Phone, email, name, pinyin or initials…",
        ),
        "section.anniversaries" => ("近期纪念日", "Upcoming anniversaries"),
        "section.basics" => ("基本信息", "Basics"),
        "section.career" => ("工作经历", "Career"),
        "section.company" => ("企业概况", "Company"),
        "section.contacts" => ("联系方式", "Contact points"),
        "section.credit" => ("经营与信用", "Business and credit"),
        "section.education" => ("教育背景", "Education"),
        "section.empty" => ("暂无资料。", "Nothing recorded yet."),
        "section.family" => ("家庭与纪念日", "Family and anniversaries"),
        "section.lifestyle" => ("生活方式与偏好", "Lifestyle and preferences"),
        "section.personality" => ("个性", "Personality"),
        "section.principals" => ("负责人与关联人员", "Principals and linked people"),
        "section.relations" => ("客户关系", "Relations"),
        "section.timeline" => ("时间线", "Timeline"),
        "source.direct" => ("直接", "direct"),
        "source.indirect" => ("间接", "indirect"),
        "source.label" => ("来源", "Source"),
        "tasks.count" => ("共 {n} 条待办", "{n} tasks"),
        "tasks.count.one" => ("共 1 条待办", "1 task"),
        "tasks.done" => ("已完成", "done"),
        "tasks.due_overdue" => ("已逾期", "Overdue"),
        "tasks.due_today" => ("今天及以前", "Due by today"),
        "tasks.due_week" => ("7 天内", "Due within 7 days"),
        "tasks.overdue_count" => ("{n} 条已逾期", "{n} overdue"),
        "tasks.overdue_count.one" => ("1 条已逾期", "1 overdue"),
        "tasks.reopen" => ("重新打开", "Reopen"),
        "tasks.status" => ("状态", "Status"),
        "tasks.status_all" => ("全部", "All"),
        "tasks.status_done" => ("已完成", "Done"),
        "tasks.status_open" => ("未完成", "Open"),
        "tasks.title" => ("待办事项", "Tasks"),
        "tasks.who" => ("谁的待办", "Whose"),
        "tasks.who_all" => ("我能看到的全部", "Everyone I can see"),
        "tasks.who_mine" => ("我的", "Mine"),
        "tasks.who_team" => ("我的团队", "My team"),
        "nav.tasks" => ("待办", "Tasks"),
        "pager.prev" => ("上一页", "Previous page"),
        "task.add" => ("添加待办", "Add task"),
        "task.assignee" => ("执行人", "Assignee"),
        "task.due" => ("截止", "Due"),
        "task.mark_done" => ("完成", "Done"),
        "task.overdue" => ("已逾期", "overdue"),
        "task.title" => ("待办事项", "Task"),
        "timeline.empty" => ("还没有订单或互动记录。", "No orders or interactions yet."),
        "timeline.interaction" => ("互动", "Interaction"),
        "timeline.older" => ("更早的记录", "Older entries"),
        "timeline.order" => ("订单", "Order"),
        "timeline.task" => ("待办", "Task"),
        "user.active" => ("启用", "Active"),
        "user.display_name" => ("显示名", "Display name"),
        "user.password" => ("密码", "Password"),
        "user.role" => ("角色", "Role"),
        "user.see_all" => ("查看全部客户", "Sees all customers"),
        "user.team" => ("团队", "Team"),
        "user.username" => ("用户名", "Username"),
        "user.version" => ("版本", "Version"),
        "user.name" => ("团队名称", "Team name"),
        "scores.job" => ("客户评分计算", "Score refresh"),
        "scores.never" => ("还没有计算过评分。", "Scores have not been computed yet."),
        "scores.last_run" => (
            "上次计算：{at}，共 {n} 位客户。",
            "Last computed {at} for {n} customers.",
        ),
        "scores.last_run.one" => (
            "上次计算：{at}，共 1 位客户。",
            "Last computed {at} for 1 customer.",
        ),
        "scores.running" => ("正在计算…", "Running…"),
        "scores.failed" => (
            "上次计算失败，详情见服务器日志。",
            "The last refresh failed; the server log has the details.",
        ),
        "scores.done" => ("已重新计算完成。", "Refresh finished."),
        "scores.refresh_now" => ("立即重新计算", "Refresh now"),
        "scores.schedule_hint" => (
            "服务器按计划自动计算（默认每 24 小时）。",
            "The server also refreshes on a schedule (every 24 hours by default).",
        ),
        "explain.recency" => ("最近一次购买在 {n} 天前", "last bought {n} days ago"),
        "explain.interval" => ("平时约每 {n} 天买一次", "used to buy about every {n} days"),
        "explain.overdue" => ("已是平常间隔的 {n} 倍", "{n}× their usual gap"),
        "explain.orders" => ("共 {f} 单，累计 {m}", "{f} orders, {m} in total"),
        "explain.one_order" => ("共 1 单，累计 {m}", "1 order, {m} in total"),
        "also.title" => (
            "买过同样商品的客户还买了",
            "Customers who bought the same also bought",
        ),
        "also.basis" => (
            "只列出一起购买多于偶然（提升度大于 1）且至少 {n} 单同时出现的商品。",
            "Only products bought together more often than chance (lift above 1) in at least {n} orders are listed.",
        ),
        "also.line" => (
            "{product}（因为买过{because}；置信度 {confidence}，提升度 {lift}）",
            "{product} (bought {because}; confidence {confidence}, lift {lift})",
        ),
        "explain.falling" => ("购买次数在下降", "buying less often than before"),
        "explain.churn" => (
            "流失风险 {p}，主要因为{reason}",
            "churn risk {p}, mainly {reason}",
        ),
        "explain.churn_low" => (
            "流失风险 {p}，不高于一般客户",
            "churn risk {p}, no higher than an average customer's",
        ),
        "explain.clv" => ("预计未来价值 {n}", "expected future value {n}"),
        "explain.separator" => ("；", "; "),
        "explain.colon" => ("：", ": "),
        "explain.action" => ("建议", "Suggested"),
        "nav.analytics" => ("分析", "Analytics"),
        "analytics.title" => ("客户分析", "Customer analytics"),
        "analytics.empty" => ("还没有评分数据：有订单后运行一次评分计算（工作台上的“立即重新计算”）。", "No scores yet: once there are orders, run a score refresh (\"Refresh now\" on the dashboard)."),
        "analytics.summary" => ("基于最近一次评分计算，共 {n} 位有订单的客户（仅限您可见的客户）。", "From the last score refresh: {n} customers with orders (those you may see)."),
        "analytics.summary.one" => ("基于最近一次评分计算，共 1 位有订单的客户（仅限您可见的客户）。", "From the last score refresh: 1 customer with orders (those you may see)."),
        "analytics.click_hint" => ("点击图中的格子或柱子查看对应客户。", "Click a cell or bar to open those customers."),
        "analytics.rf_grid" => ("RFM 矩阵（最近购买 × 购买频率）", "RFM grid (recency × frequency)"),
        "analytics.value_matrix" => ("价值矩阵（频率 × 客单价）", "Value matrix (frequency × average spend)"),
        "analytics.pareto" => ("帕累托曲线（80/20）", "Pareto curve (80/20)"),
        "analytics.pareto_text" => ("消费最高的 20% 客户贡献了 {p} 的收入。", "The top 20% of customers bring {p} of revenue."),
        "analytics.segments" => ("RFM 细分人数", "Customers per RFM segment"),
        "analytics.clv_distribution" => ("客户终身价值分布", "Customer lifetime value distribution"),
        "analytics.top_clv" => ("终身价值最高的客户", "Top customers by lifetime value"),
        "analytics.churn_risk" => ("流失风险最高的客户", "Customers most at risk of churning"),
        "analytics.segment_history" => ("RFM 细分人数变化（每次评分计算）", "Segment sizes over time (per score refresh)"),
        "analytics.reason" => ("主要原因", "Main reason"),
        "analytics.f_axis" => ("购买频率分（F）", "Frequency score (F)"),
        "analytics.r_axis" => ("最近购买分（R）", "Recency score (R)"),
        "analytics.customer_share" => ("客户占比 %", "Share of customers %"),
        "analytics.revenue_share" => ("收入占比 %", "Share of revenue %"),
        "analytics.clv_yuan" => ("终身价值（元）", "Lifetime value (yuan)"),
        "filter.scores" => ("筛选条件", "Filtered by"),
        _ => return None,
    })
}

/// A page text in a language. Keys without a dot are validation / error codes.
pub fn t(locale: Locale, key: &str) -> &'static str {
    match lookup(key) {
        Some((zh, en)) => match locale {
            Locale::ZhCn => zh,
            Locale::En => en,
        },
        None if !key.contains('.') => message(locale, key),
        None => match locale {
            Locale::ZhCn => "（未翻译）",
            Locale::En => "(untranslated)",
        },
    }
}

/// A text about `n` things with `{n}` filled in (thousands separated). English needs its
/// singular: a key's `.one` variant, when the catalogue has one, is used for exactly one.
pub fn count(locale: Locale, key: &str, n: i64) -> String {
    let one = format!("{key}.one");
    let text = if n == 1 && lookup(&one).is_some() {
        t(locale, &one)
    } else {
        t(locale, key)
    };
    text.replace("{n}", &super::format::thousands(n))
}

/// Looks a vocabulary label up.
pub fn lookup_label(vocabulary: &str, code: &str) -> Option<(&'static str, &'static str)> {
    Some(match (vocabulary, code) {
        ("lifecycle_stage", "prospect") => ("潜在客户", "Prospect"),
        ("lifecycle_stage", "new") => ("新客户", "New"),
        ("lifecycle_stage", "active") => ("活跃", "Active"),
        ("lifecycle_stage", "dormant") => ("沉睡", "Dormant"),
        ("lifecycle_stage", "lost") => ("流失", "Lost"),
        ("tier", "A") => ("A 类（重要）", "A (key)"),
        ("tier", "B") => ("B 类（一般）", "B (regular)"),
        ("tier", "C") => ("C 类（次要）", "C (minor)"),
        ("customer_kind", "individual") => ("个人", "Individual"),
        ("customer_kind", "company") => ("企业", "Company"),
        ("sort", "updated_at") => ("最近修改", "Last changed"),
        ("sort", "created_at") => ("创建时间", "Created"),
        ("sort", "name") => ("名称", "Name"),
        ("sort", "id") => ("编号", "Id"),
        ("gender", "male") => ("男", "Male"),
        ("gender", "female") => ("女", "Female"),
        ("gender", "other") => ("其他", "Other"),
        ("gender", "unspecified") => ("未说明", "Unspecified"),
        ("source_channel", "survey") => ("问卷调查", "Survey"),
        ("source_channel", "campaign") => ("营销活动", "Campaign"),
        ("source_channel", "service") => ("客户服务", "Service"),
        ("source_channel", "point_of_sale") => ("门店销售", "Point of sale"),
        ("source_channel", "exhibition") => ("展会", "Exhibition"),
        ("source_channel", "complaint") => ("投诉", "Complaint"),
        ("source_channel", "website") => ("网站", "Website"),
        ("source_channel", "call_centre") => ("呼叫中心", "Call centre"),
        ("source_channel", "purchased_list") => ("购买名单", "Purchased list"),
        ("source_channel", "public_records") => ("公开资料", "Public records"),
        ("source_channel", "partner") => ("合作伙伴", "Partner"),
        ("source_channel", "referral") => ("转介绍", "Referral"),
        ("source_channel", "import") => ("批量导入", "Import"),
        ("source_channel", "manual") => ("手工录入", "Manual entry"),
        ("contact_kind", "phone") => ("电话", "Phone"),
        ("contact_kind", "mobile") => ("手机", "Mobile"),
        ("contact_kind", "email") => ("邮箱", "Email"),
        ("contact_kind", "wechat") => ("微信", "WeChat"),
        ("contact_kind", "qq") => ("QQ", "QQ"),
        ("contact_kind", "address") => ("地址", "Address"),
        ("relation_kind", "spouse") => ("配偶", "Spouse"),
        ("relation_kind", "parent") => ("父母", "Parent"),
        ("relation_kind", "colleague") => ("同事", "Colleague"),
        ("relation_kind", "principal_of") => ("企业负责人", "Principal of"),
        ("relation_kind", "referred_by") => ("介绍人", "Referred by"),
        ("relation_kind", "friend") => ("朋友", "Friend"),
        ("principal_role", "owner") => ("所有者", "Owner"),
        ("principal_role", "legal_representative") => ("法定代表人", "Legal representative"),
        ("principal_role", "manager") => ("经理", "Manager"),
        ("principal_role", "contact") => ("联系人", "Contact"),
        ("order_channel", "store") => ("门店", "Store"),
        ("order_channel", "online") => ("线上", "Online"),
        ("order_channel", "phone") => ("电话", "Phone"),
        ("order_channel", "wechat") => ("微信", "WeChat"),
        ("order_channel", "partner") => ("合作伙伴", "Partner"),
        ("interaction_channel", "face_to_face") => ("面谈", "Face to face"),
        ("interaction_channel", "phone") => ("电话", "Phone"),
        ("interaction_channel", "sms") => ("短信", "SMS"),
        ("interaction_channel", "email") => ("邮件", "Email"),
        ("interaction_channel", "wechat") => ("微信", "WeChat"),
        ("interaction_channel", "web_chat") => ("网页聊天", "Web chat"),
        ("interaction_channel", "letter") => ("信函", "Letter"),
        ("interaction_channel", "note") => ("内部备注", "Note"),
        ("interaction_direction", "inbound") => ("客户来访/来电", "Inbound"),
        ("interaction_direction", "outbound") => ("主动联系", "Outbound"),
        ("interaction_direction", "internal") => ("内部", "Internal"),
        ("task_status", "open") => ("待办", "Open"),
        ("task_status", "done") => ("已完成", "Done"),
        ("business_status", "operating") => ("在业", "Operating"),
        ("business_status", "suspended") => ("停业", "Suspended"),
        ("business_status", "dissolved") => ("注销", "Dissolved"),
        ("business_status", "unknown") => ("未知", "Unknown"),
        ("credit_status", "good") => ("良好", "Good"),
        ("credit_status", "watch") => ("关注", "Watch"),
        ("credit_status", "poor") => ("较差", "Poor"),
        ("credit_status", "unknown") => ("未知", "Unknown"),
        ("company_size", "micro") => ("微型", "Micro"),
        ("company_size", "small") => ("小型", "Small"),
        ("company_size", "medium") => ("中型", "Medium"),
        ("company_size", "large") => ("大型", "Large"),
        ("company_size", "enterprise") => ("特大型", "Enterprise"),
        ("rfm_segment", "champions") => ("重要价值客户", "Champions"),
        ("rfm_segment", "loyal_customers") => ("忠诚客户", "Loyal Customers"),
        ("rfm_segment", "potential_loyalists") => ("潜力客户", "Potential Loyalists"),
        ("rfm_segment", "new_customers") => ("新客户", "New Customers"),
        ("rfm_segment", "promising") => ("有希望的客户", "Promising"),
        ("rfm_segment", "need_attention") => ("需要关注", "Need Attention"),
        ("rfm_segment", "about_to_sleep") => ("即将沉睡", "About to Sleep"),
        ("rfm_segment", "at_risk") => ("有流失风险", "At Risk"),
        ("rfm_segment", "cant_lose_them") => ("不能失去的客户", "Can't Lose Them"),
        ("rfm_segment", "hibernating") => ("休眠客户", "Hibernating"),
        ("rfm_segment", "lost") => ("已流失", "Lost"),
        ("value_cell", "best") => ("最佳客户（高频高额）", "Best (frequent, big spend)"),
        ("value_cell", "spenders") => ("高额低频", "Spenders (big spend, rare)"),
        ("value_cell", "frequent") => ("高频低额", "Frequent (often, small spend)"),
        ("value_cell", "uncertain") => ("不确定", "Uncertain"),
        ("activity", "active") => ("活跃", "Active"),
        ("activity", "potential") => ("潜在流失", "At the edge"),
        ("activity", "dormant") => ("沉睡", "Dormant"),
        ("activity", "lost") => ("流失", "Lost"),
        // What raises a customer's churn risk most, by the side of the book's average they
        // are on (guanxi_analytics::churn::REASONS).
        ("churn_reason", "recency_days_high") => ("很久没有购买", "long since last purchase"),
        ("churn_reason", "recency_days_low") => ("最近刚购买过", "bought recently"),
        ("churn_reason", "orders_365d_high") => ("近一年购买次数多", "many orders in the last year"),
        ("churn_reason", "orders_365d_low") => ("近一年购买次数少", "few orders in the last year"),
        ("churn_reason", "log_spend_365d_high") => ("近一年消费高", "high spend in the last year"),
        ("churn_reason", "log_spend_365d_low") => ("近一年消费低", "low spend in the last year"),
        ("churn_reason", "orders_trend_high") => ("购买次数在上升", "orders rising"),
        ("churn_reason", "orders_trend_low") => ("购买次数在下降", "orders falling"),
        ("churn_reason", "typical_interval_days_high") => ("购买间隔长", "long gaps between purchases"),
        ("churn_reason", "typical_interval_days_low") => ("购买间隔短", "short gaps between purchases"),
        ("churn_reason", "overdue_ratio_high") => ("超出平常购买间隔", "overdue against own rhythm"),
        ("churn_reason", "overdue_ratio_low") => ("仍在平常购买间隔内", "within own rhythm"),
        ("churn_reason", "tenure_days_high") => ("老客户（客户时间长）", "long-standing customer"),
        ("churn_reason", "tenure_days_low") => ("新客户（客户时间短）", "new customer"),
        ("role", "admin") => ("管理员", "Admin"),
        ("role", "manager") => ("经理", "Manager"),
        ("role", "sales") => ("销售", "Sales"),
        ("role", "service") => ("客服", "Service"),
        ("role", "marketing") => ("营销", "Marketing"),
        ("role", "viewer") => ("只读", "Viewer"),
        ("audit_action", "create") => ("创建", "Create"),
        ("audit_action", "update") => ("修改", "Update"),
        ("audit_action", "delete") => ("删除", "Delete"),
        ("audit_action", "merge") => ("合并", "Merge"),
        ("audit_action", "export") => ("导出", "Export"),
        ("audit_action", "read_sensitive") => ("查看敏感信息", "Sensitive read"),
        ("audit_action", "login") => ("登录", "Sign-in"),
        ("audit_action", "login_failed") => ("登录失败", "Failed sign-in"),
        ("audit_entity", "customer") => ("客户", "Customer"),
        ("audit_entity", "contact_point") => ("联系方式", "Contact point"),
        ("audit_entity", "relation") => ("客户关系", "Relation"),
        ("audit_entity", "order") => ("订单", "Order"),
        ("audit_entity", "user") => ("用户", "User"),
        ("audit_entity", "team") => ("团队", "Team"),
        ("audit_entity", "token") => ("API 令牌", "API token"),
        ("audit_entity", "interaction") => ("互动", "Interaction"),
        ("audit_entity", "task") => ("待办", "Task"),
        ("audit_action", "refresh_scores") => ("计算评分", "Score refresh"),
        ("audit_entity", "customer_scores") => ("客户评分", "Customer scores"),
        ("audit_entity", "job") => ("后台任务", "Background job"),
        ("audit_action", "retry_job") => ("重试任务", "Job retry"),
        ("audit_action", "cancel_job") => ("取消任务", "Job cancel"),
        ("job_state", "queued") => ("排队中", "Queued"),
        ("job_state", "running") => ("运行中", "Running"),
        ("job_state", "done") => ("已完成", "Done"),
        ("job_state", "failed") => ("失败", "Failed"),
        ("job_state", "cancelled") => ("已取消", "Cancelled"),
        ("job_kind", "scores.refresh") => ("客户评分计算", "Customer score refresh"),
        ("value_action", "best") => ("重点维系：会员礼遇、新品优先、专人联系，防止被竞争对手抢走。", "Retain and reward: loyalty benefits, early access, personal contact; protect from competitors."),
        ("value_action", "spenders") => ("提高购买频率：提醒、订阅、更多回店理由。", "Raise frequency: reminders, subscriptions, reasons to come back more often."),
        ("value_action", "frequent") => ("提高客单价：交叉销售、组合装、高端产品。", "Raise spend per visit: cross-sell, bundles, premium lines."),
        ("value_action", "uncertain") => ("低成本培育：找出有潜力的客户，其余少投入。", "Low-cost nurturing; find the ones who can grow, spend little on the rest."),
        _ => return None,
    })
}

/// The label of a vocabulary code; an unknown code shows as itself (data from a newer
/// version stays readable).
pub fn label(locale: Locale, vocabulary: &str, code: &str) -> String {
    match lookup_label(vocabulary, code) {
        Some((zh, en)) => match locale {
            Locale::ZhCn => zh,
            Locale::En => en,
        }
        .to_string(),
        None => code.to_string(),
    }
}

/// The catalogue key saying what an identification hit matched on.
pub fn match_key(matched_on: &str) -> &'static str {
    match matched_on {
        "phone" => "match.phone",
        "email" => "match.email",
        "name" => "match.name",
        "name_part" => "match.name_part",
        "pinyin" => "match.pinyin",
        "pinyin_part" => "match.pinyin_part",
        "initials" => "match.initials",
        _ => "match.other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use guanxi_domain::vocabulary::*;

    /// Every `t("…")` key in a template or a page module exists in both languages.
    #[test]
    fn every_used_key_is_translated() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/");
        let mut missing = Vec::new();
        let mut seen = 0;
        let mut files = Vec::new();
        let mut dirs: Vec<std::path::PathBuf> = ["templates", "src/ui", "src/features"]
            .iter()
            .map(|s| format!("{dir}{s}").into())
            .collect();
        while let Some(d) = dirs.pop() {
            for entry in std::fs::read_dir(d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    files.push(path);
                }
            }
        }
        {
            for path in files {
                let text = std::fs::read_to_string(&path).unwrap();
                for piece in text.split("t(\"").skip(1) {
                    let key: String = piece.chars().take_while(|c| *c != '"').collect();
                    if key.contains('.')
                        && key
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_')
                    {
                        seen += 1;
                        match lookup(&key) {
                            Some((zh, en)) if !zh.is_empty() && !en.is_empty() && zh != en => {}
                            _ => missing.push(format!("{}: {key}", path.display())),
                        }
                    }
                }
            }
        }
        assert!(seen > 150, "scanned only {seen} keys");
        assert!(missing.is_empty(), "untranslated: {missing:#?}");
    }

    /// One customer is "1 customer" in English; other counts and Chinese are unchanged.
    #[test]
    fn counts_agree_in_number() {
        assert_eq!(count(Locale::En, "segment.size_now", 1), "1 customer now");
        assert_eq!(count(Locale::En, "segment.size_now", 0), "0 customers now");
        assert_eq!(
            count(Locale::En, "segment.size_now", 12_345),
            "12,345 customers now"
        );
        assert_eq!(count(Locale::ZhCn, "segment.size_now", 1), "当前 1 位客户");
        // A key without a singular variant keeps its one form.
        assert_eq!(
            count(Locale::En, "bulk.failed", 1),
            t(Locale::En, "bulk.failed").replace("{n}", "1")
        );
    }

    /// Every member of every vocabulary shown on a page has a label in both languages.
    #[test]
    fn every_vocabulary_code_has_labels() {
        fn check(v: &str, codes: Vec<&str>, missing: &mut Vec<String>) {
            for c in codes {
                match lookup_label(v, c) {
                    Some((zh, en)) if !zh.is_empty() && !en.is_empty() => {}
                    _ => missing.push(format!("{v}.{c}")),
                }
            }
        }
        let mut m = Vec::new();
        check(
            "lifecycle_stage",
            LifecycleStage::ALL.iter().map(|x| x.as_str()).collect(),
            &mut m,
        );
        check(
            "customer_kind",
            CustomerKind::ALL.iter().map(|x| x.as_str()).collect(),
            &mut m,
        );
        check(
            "gender",
            Gender::ALL.iter().map(|x| x.as_str()).collect(),
            &mut m,
        );
        check(
            "source_channel",
            SourceChannel::ALL.iter().map(|x| x.as_str()).collect(),
            &mut m,
        );
        check(
            "contact_kind",
            ContactKind::ALL.iter().map(|x| x.as_str()).collect(),
            &mut m,
        );
        check(
            "relation_kind",
            RelationKind::ALL.iter().map(|x| x.as_str()).collect(),
            &mut m,
        );
        check(
            "principal_role",
            PrincipalRole::ALL.iter().map(|x| x.as_str()).collect(),
            &mut m,
        );
        check(
            "order_channel",
            OrderChannel::ALL.iter().map(|x| x.as_str()).collect(),
            &mut m,
        );
        check(
            "interaction_channel",
            InteractionChannel::ALL.iter().map(|x| x.as_str()).collect(),
            &mut m,
        );
        check(
            "interaction_direction",
            InteractionDirection::ALL
                .iter()
                .map(|x| x.as_str())
                .collect(),
            &mut m,
        );
        check(
            "business_status",
            BusinessStatus::ALL.iter().map(|x| x.as_str()).collect(),
            &mut m,
        );
        check(
            "credit_status",
            CreditStatus::ALL.iter().map(|x| x.as_str()).collect(),
            &mut m,
        );
        check(
            "company_size",
            CompanySize::ALL.iter().map(|x| x.as_str()).collect(),
            &mut m,
        );
        check(
            "role",
            guanxi_domain::role::Role::ALL
                .iter()
                .map(|x| x.as_str())
                .collect(),
            &mut m,
        );
        check(
            "churn_reason",
            guanxi_analytics::churn::REASONS.concat(),
            &mut m,
        );
        check(
            "audit_action",
            crate::ui::admin::AUDIT_ACTIONS.to_vec(),
            &mut m,
        );
        check(
            "audit_entity",
            crate::ui::admin::AUDIT_ENTITIES.to_vec(),
            &mut m,
        );
        check("task_status", vec!["open", "done"], &mut m);
        check("tier", guanxi_domain::segment::TIERS.to_vec(), &mut m);
        check(
            "value_cell",
            guanxi_domain::segment::VALUE_CELLS.to_vec(),
            &mut m,
        );
        check(
            "value_action",
            guanxi_domain::segment::VALUE_CELLS.to_vec(),
            &mut m,
        );
        check(
            "activity",
            guanxi_domain::segment::ACTIVITIES.to_vec(),
            &mut m,
        );
        check(
            "rfm_segment",
            guanxi_domain::segment::RFM_SEGMENTS.to_vec(),
            &mut m,
        );
        assert!(m.is_empty(), "no label: {m:?}");
    }
}
