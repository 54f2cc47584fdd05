# Exports of the customer list and the approval of mass exports (issue #18).
nav-exports = Exports
export-title = Export customers
export-list_button = Export…
export-matching =
    { $count ->
        [one] 1 customer matches the list's filters.
       *[other] { $n } customers match the list's filters.
    }
export-matching_over =
    { $count ->
        [one] More than 1 customer matches the list's filters.
       *[other] More than { $n } customers match the list's filters.
    }
export-columns = Columns
export-format = Format
export-needs_approval =
    { $count ->
        [one] Exports of more than 1 customer need a manager's approval: say why. The file you then download carries your name on every row.
       *[other] Exports of more than { $n } customers need a manager's approval: say why. The file you then download carries your name on every row.
    }
export-reason = Reason
export-request = Ask for approval
export-download = Download
export-requests = Export requests
export-requested = Request #{ $id } is waiting for a manager's approval; you will be notified.
export-none = No export requests.
export-requested_by = Asked by
export-asked_at = Asked
export-rows = Customers
export-status = Status
export-the_list = the list
export-download_once = Download (once)
export-note = Note
export-approve = Approve
export-reject = Reject
export-policy = Export policy
export-threshold = Customers one export may hold without approval
export-watermark = Exported by
export-sheet = Customers
export-alert_requested = { $who } asks to export { $n } customers; approve or reject it under Exports.
export-alert_approved = { $who } approved your export request #{ $id }; you can download it once under Exports.
export-alert_rejected = { $who } rejected your export request #{ $id }.
export-alert_downloaded = { $who } downloaded the approved export #{ $id } ({ $n } customers).
label-export_status-pending = Awaiting approval
label-export_status-approved = Approved
label-export_status-rejected = Rejected
label-export_status-downloaded = Downloaded
code-not_pending = This request has already been decided.
code-own_request = Nobody approves their own export.
code-not_approved = This export is not approved, or has already been downloaded.
code-needs_approval = This export is larger than the shop allows without approval; export it from the customer list, which asks a manager.
code-made_on_page = This export was requested on the pages; download it there.
code-made_over_api = This export was requested over the API; download it there.
