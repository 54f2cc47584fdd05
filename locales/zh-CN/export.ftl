# 客户名单导出与大批量导出的审批（issue #18）。
nav-exports = 导出
export-title = 导出客户
export-list_button = 导出…
export-matching =
    { $count ->
        [one] 符合当前筛选的客户有 1 位。
       *[other] 符合当前筛选的客户有 { $n } 位。
    }
export-matching_over =
    { $count ->
        [one] 符合当前筛选的客户超过 1 位。
       *[other] 符合当前筛选的客户超过 { $n } 位。
    }
export-columns = 列
export-format = 格式
export-needs_approval =
    { $count ->
        [one] 导出超过 1 位客户需要经理审批，请说明原因。批准后下载的文件每一行都带有您的姓名。
       *[other] 导出超过 { $n } 位客户需要经理审批，请说明原因。批准后下载的文件每一行都带有您的姓名。
    }
export-reason = 原因
export-request = 提交审批
export-download = 下载
export-requests = 导出申请
export-requested = 申请 #{ $id } 正在等待经理审批，结果会通知您。
export-none = 没有导出申请。
export-requested_by = 申请人
export-asked_at = 申请时间
export-rows = 客户数
export-status = 状态
export-the_list = 名单
export-download_once = 下载（仅一次）
export-note = 备注
export-approve = 批准
export-reject = 拒绝
export-policy = 导出规定
export-threshold = 无需审批即可导出的客户数上限
export-watermark = 导出人
export-sheet = 客户
export-alert_requested = { $who } 申请导出 { $n } 位客户，请在“导出”中批准或拒绝。
export-alert_approved = { $who } 批准了您的导出申请 #{ $id }，可在“导出”中下载一次。
export-alert_rejected = { $who } 拒绝了您的导出申请 #{ $id }。
export-alert_downloaded = { $who } 下载了已批准的导出 #{ $id }（{ $n } 位客户）。
label-export_status-pending = 待审批
label-export_status-approved = 已批准
label-export_status-rejected = 已拒绝
label-export_status-downloaded = 已下载
code-not_pending = 此申请已经处理过了。
code-own_request = 不能审批自己的导出申请。
code-not_approved = 此导出未获批准，或已经下载过。
code-needs_approval = 此次导出超过了无需审批的上限；请从客户列表导出，系统会请经理审批。
code-made_on_page = 该导出是在页面上申请的，请在页面上下载。
code-made_over_api = 该导出是通过 API 申请的，请通过 API 下载。
