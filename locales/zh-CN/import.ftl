# 导入（issue #18）：导入向导。
nav-imports = 导入
import-title = 数据导入
import-file = 文件
import-file_hint = CSV（UTF-8、中文 Excel 和 WPS 保存的 GBK/GB18030，或 UTF-16）或工作簿（xlsx、xls、ods），第一行为表头；最大 20 MB、20 万行。检查预览并点击“开始导入”之前不会写入任何数据。
import-upload = 上传并对应字段
import-recent = 最近的导入
import-none = 还没有导入记录。
import-status = 状态
import-uploaded_at = 上传时间
import-inserted = 新建
import-updated = 更新
import-skipped = 作为重复跳过
import-invalid = 有问题的行
import-sheet = 工作表
import-mapping = 列
import-rows_in_file =
    { $count ->
        [one] 文件共 1 行
       *[other] 文件共 { $n } 行
    }
import-mapping_hint = 系统已按表头或内容为每一列匹配字段；如有不对请修改，也可以忽略某一列。
import-column = 文件中的列
import-sample = 前几个值
import-field = 字段
import-ignore = （忽略此列）
import-options = 选项
import-on_duplicate = 与已有客户重复的行
import-choice_skip = 跳过该行
import-choice_update = 更新已有客户
import-choice_create = 仍然新建客户
import-choice_fail = 作为问题报告
import-update_mode = 更新时
import-mode_overwrite = 用文件中的值覆盖（空单元格保留原值）
import-mode_fill_empty = 只填写空白字段
import-source = 客户来源
import-owner = 新客户的负责人
import-owner_me = 我
import-skip_invalid = 其他行有问题时仍导入有效的行（否则全部导入或全部不导入）
import-preview = 预览
import-plan_inserts =
    { $count ->
        [one] 新建 1 位客户
       *[other] 新建 { $n } 位客户
    }
import-plan_updates =
    { $count ->
        [one] 更新 1 位
       *[other] 更新 { $n } 位
    }
import-plan_skips =
    { $count ->
        [one] 跳过 1 个重复
       *[other] 跳过 { $n } 个重复
    }
import-plan_invalid =
    { $count ->
        [one] 1 行有问题
       *[other] { $n } 行有问题
    }
import-line = 行
import-problems = 问题
import-more_in_report = 更多问题见问题报告。
import-report = 下载问题报告（xlsx）
import-duplicates =
    { $count ->
        [one] 1 行与已有客户重复
       *[other] { $n } 行与已有客户重复
    }
import-in_file = 文件中
import-on_file = 已有客户
import-matched_on = 相同的
import-choice = 处理
import-more_duplicates = 未列出的行按上面的选项处理。
import-save_preview = 保存并预览
import-run = 开始导入
import-undone_removed =
    { $count ->
        [one] 已撤销：删除了新建的 1 位客户，
       *[other] 已撤销：删除了新建的 { $n } 位客户，
    }
import-undone_restored =
    { $count ->
        [one] 恢复了被更新的 1 位客户，
       *[other] 恢复了被更新的 { $n } 位客户，
    }
import-undone_kept =
    { $count ->
        [one] 之后被修改过的 1 位客户保持不变。
       *[other] 之后被修改过的 { $n } 位客户保持不变。
    }
import-undo = 撤销此次导入
import-undo_confirm = 删除此次导入新建的客户，并恢复被更新的客户？
import-undo_until = 可撤销至 { $at }。
import-reopen = 修改设置后重试
import-phase_queued = 等待开始
import-phase_checking = 正在检查
import-phase_duplicates = 正在查找重复
import-phase_writing = 正在写入
import-matched_mobile = 电话
import-matched_email = 邮箱
import-matched_wechat = 微信
import-matched_id_number = 证件号
import-report_line = 行
import-report_column = 列
import-report_problem = 问题
import-report_sheet = 问题
label-import_status-uploaded = 待对应
label-import_status-queued = 排队中
label-import_status-running = 进行中
label-import_status-done = 已完成
label-import_status-failed = 失败
label-import_status-undone = 已撤销
label-job_kind-imports-run = 文件导入
field-mobile = 手机
field-wechat = 微信
field-qq = QQ
code-unknown_encoding = 无法识别文件的文字编码；请另存为 UTF-8 或 GBK 的 CSV，或 xlsx。
code-unreadable_file = 无法读取该工作簿；请重新保存为 xlsx 或 CSV。
code-too_many_rows = 文件超过 20 万行，请拆分。
code-malformed_csv = CSV 文件格式有误（请检查引号）。
code-mapped_twice = 有两列对应到了同一个字段。
code-name_not_mapped = 请为姓名/名称指定一列。
code-already_started = 此次导入已经开始。
code-not_undoable = 此次导入无法撤销（尚未完成、已撤销或已超过 7 天）。
code-not_failed = 只有失败的导入可以重新设置。
code-changed_meanwhile = 导入过程中有客户被修改，未导入任何数据。请重新运行。
code-rows_invalid = 有些行有问题，因此没有导入任何数据（全部或全不）。请修正，或选择只导入有效的行。
code-too_large = 文件太大。
code-too_many_cells = 这一行的单元格比表头的列多，多出的数据会丢失。
import-matched_name_company = 姓名和单位
duplicates-name_company = 同名且同单位
import-update_except = 以下字段按相反方式处理（例如只填空白，但覆盖地址）：
code-write_failed = 写入失败，未导入任何数据；原因见后台任务，可修改后重新运行。
# 订单（含明细）导入。
import-entity = 文件内容
import-entity_customers = 客户
import-entity_orders = 订单（每行一条订单明细）
import-entity_hint = 订单文件每行一条明细，订单号相同的行属于同一订单。购买人用关系系统的客户编号，或已登记的手机、邮箱、微信号指明。
label-import_entity-customers = 客户
label-import_entity-orders = 订单
import-channel = 未填渠道的行的渠道
import-on_duplicate_order = 订单号已存在时
import-choice_skip_order = 跳过该订单
import-choice_fail_order = 作为问题报告
import-matched_order_ref = 订单号
import-plan_orders = 新建 { $n } 个订单
import-plan_order_lines = 共 { $n } 条明细
import-orders_on_file = { $n } 个订单号已存在
import-undo_orders_confirm = 删除本次导入新建的订单？
import-undone_orders_removed = 已撤销：删除导入的订单 { $n } 个，
import-undone_orders_kept = 因已有积分、优惠券、工单或商机引用而保留 { $n } 个订单。
field-order_ref = 订单号
field-customer_id = 客户编号
field-ordered_at = 下单时间
field-channel = 渠道
field-store = 门店
field-currency = 币种
field-sku = 商品编码
field-product_name = 商品名称
field-category = 品类
field-quantity = 数量
field-unit_price = 单价（元）
field-line_amount = 金额（元）
code-buyer_not_mapped = 请指定标明购买人的列：客户编号、手机、邮箱或微信号。
code-ordered_at_not_mapped = 请指定下单时间所在的列。
code-sku_not_mapped = 请指定商品编码所在的列。
code-price_not_mapped = 请指定单价或金额所在的列。
code-amount_mismatch = 金额不等于数量 × 单价。
code-amount_not_divisible = 金额无法按数量均分，请提供单价。
code-order_rows_disagree = 本行与前面同一订单号的行购买人、时间、渠道、门店或币种不一致。
code-order_has_problems = 该订单的其他行有问题，整张订单不导入。
code-customer_not_found = 您可见的客户中没有此编号、电话、邮箱或微信号。
code-ambiguous_customer = 多个客户使用此电话、邮箱或微信号，请用客户编号指明购买人。
code-order_on_file = 已存在此订单号的订单。
# 互动记录导入。
import-entity_interactions = 互动记录（每行一次联系）
label-import_entity-interactions = 互动记录
import-interaction_channel = 未填方式的行的联系方式
import-on_duplicate_interaction = 相同的联系记录已存在时
import-choice_skip_interaction = 跳过该行
import-choice_fail_interaction = 作为问题报告
import-matched_same_interaction = 客户、时间、方式和主题相同
import-plan_interactions = 新建 { $n } 条互动记录
import-interactions_on_file = { $n } 行已存在
import-undo_records_confirm = 删除本次导入新建的记录？
import-undone_records_removed = 已撤销：删除导入的记录 { $n } 条，
import-undone_records_kept = 因此后被修改或被引用而保留 { $n } 条。
field-occurred_at = 时间
field-interaction_channel = 方式
field-direction = 方向
field-purpose = 目的
field-subject = 主题
field-body = 内容
code-occurred_at_not_mapped = 请指定联系时间所在的列。
code-subject_not_mapped = 请指定主题所在的列。
code-interaction_on_file = 相同的联系记录（客户、时间、方式和主题相同）已存在。
# 商机导入。
import-entity_opportunities = 商机（每行一个商机）
label-import_entity-opportunities = 商机
import-pipeline = 未填管道的行的销售管道
import-pipeline_first = 第一个启用的管道
import-on_duplicate_deal = 客户已有同名商机时
import-choice_skip_deal = 跳过该行
import-choice_fail_deal = 作为问题报告
import-matched_same_deal = 客户与商机名称相同
import-plan_deals = 新建 { $n } 个商机
import-deals_on_file = { $n } 个商机已存在
field-deal_name = 商机名称
field-pipeline = 销售管道
field-stage = 阶段
field-amount = 金额（元）
field-probability = 赢率（%）
field-expected_close = 预计成交日期
field-next_step = 下一步
field-source = 来源
field-competitors = 竞争对手
field-stated_needs = 需求
code-deal_name_not_mapped = 请指定商机名称所在的列。
code-unknown_pipeline = 没有此名称的启用管道。
code-no_pipeline = 没有可放入商机的启用管道。
code-unknown_stage = 该管道没有此名称的阶段。
code-unknown_user = 没有此登录名或姓名的在职用户。
code-deal_on_file = 该客户已有同名商机。
# 谁可以导入。
import-sales_may_import = 允许销售人员导入到自己名下
import-sales_may_import_hint = 新建的客户归其本人；只在其可见的客户中查找重复和购买人。经理和管理员始终可以导入。
import-save_policy = 保存
code-forbidden_owner = 您只能导入到自己名下。
