# Imports (issue #18): the import wizard.
nav-imports = Import
import-title = Imports
import-file = File
import-file_hint = CSV (UTF-8, GBK/GB18030 as Chinese Excel and WPS save it, or UTF-16) or a workbook (xlsx, xls, ods) with a header row; at most 20 MB and 200,000 rows. Nothing is imported until you have checked the preview and pressed "Run import".
import-upload = Upload and map
import-recent = Recent imports
import-none = No imports yet.
import-status = Status
import-uploaded_at = Uploaded
import-inserted = Created
import-updated = Updated
import-skipped = Skipped as duplicates
import-invalid = Rows with problems
import-sheet = Sheet
import-mapping = Columns
import-rows_in_file =
    { $count ->
        [one] 1 row in the file
       *[other] { $n } rows in the file
    }
import-mapping_hint = Each column is matched to a field by its header or by what it holds; change any that is wrong, or ignore a column.
import-column = Column in the file
import-sample = First values
import-field = Field
import-ignore = (ignore this column)
import-options = Options
import-on_duplicate = A row that matches a customer on file
import-choice_skip = Skip the row
import-choice_update = Update the customer
import-choice_create = Create a new customer anyway
import-choice_fail = Report it as a problem
import-update_mode = When updating
import-mode_overwrite = The file's values replace what is stored (empty cells keep it)
import-mode_fill_empty = Only fill fields that are empty
import-source = Source of the customers
import-owner = Owner of new customers
import-owner_me = Me
import-skip_invalid = Import the valid rows even if others have problems (otherwise all or nothing)
import-preview = Preview
import-plan_inserts =
    { $count ->
        [one] 1 new customer
       *[other] { $n } new customers
    }
import-plan_updates =
    { $count ->
        [one] 1 update
       *[other] { $n } updates
    }
import-plan_skips =
    { $count ->
        [one] 1 duplicate skipped
       *[other] { $n } duplicates skipped
    }
import-plan_invalid =
    { $count ->
        [one] 1 row with problems
       *[other] { $n } rows with problems
    }
import-line = Line
import-problems = Problems
import-more_in_report = More problems are listed in the report.
import-report = Download the problems (xlsx)
import-duplicates =
    { $count ->
        [one] 1 row matches a customer on file
       *[other] { $n } rows match customers on file
    }
import-in_file = In the file
import-on_file = On file
import-matched_on = Same
import-choice = Do
import-more_duplicates = The rows not listed here follow the choice above.
import-save_preview = Save and preview
import-run = Run import
import-undone_removed =
    { $count ->
        [one] Undone: 1 created customer deleted,
       *[other] Undone: { $n } created customers deleted,
    }
import-undone_restored =
    { $count ->
        [one] 1 updated customer restored,
       *[other] { $n } updated customers restored,
    }
import-undone_kept =
    { $count ->
        [one] 1 customer changed since kept as it is.
       *[other] { $n } customers changed since kept as they are.
    }
import-undo = Undo this import
import-undo_confirm = Delete the customers this import created and restore the ones it updated?
import-undo_until = Possible until { $at }.
import-reopen = Fix the settings and try again
import-phase_queued = Waiting to start
import-phase_checking = Checking the rows
import-phase_duplicates = Looking for duplicates
import-phase_writing = Writing
import-matched_mobile = phone
import-matched_email = email
import-matched_wechat = WeChat
import-matched_id_number = ID number
import-report_line = Line
import-report_column = Column
import-report_problem = Problem
import-report_sheet = Problems
label-import_status-uploaded = To map
label-import_status-queued = Queued
label-import_status-running = Running
label-import_status-done = Done
label-import_status-failed = Failed
label-import_status-undone = Undone
label-job_kind-imports-run = Import from a file
field-mobile = Mobile
field-wechat = WeChat
field-qq = QQ
code-unknown_encoding = The file's text encoding is not recognised; save it as UTF-8 or GBK CSV, or as xlsx.
code-unreadable_file = The workbook cannot be read; save it again as xlsx or CSV.
code-too_many_rows = The file has more than 200,000 rows; split it.
code-malformed_csv = The CSV file is malformed (check its quotes).
code-mapped_twice = Two columns are mapped to the same field.
code-name_not_mapped = Map a column to the name.
code-already_started = This import has already been started.
code-not_undoable = This import cannot be undone (not finished, already undone, or older than 7 days).
code-not_failed = Only a failed import can be set up again.
code-changed_meanwhile = A customer was changed while the import ran; nothing was imported. Run it again.
code-rows_invalid = Some rows have problems, so nothing was imported (all or nothing). Fix them, or choose to import the valid rows.
code-too_large = The file is too large.
code-too_many_cells = This row has more cells than the header has columns; its data would be lost.
import-matched_name_company = name and employer
duplicates-name_company = the same name and employer
import-update_except = But treat these fields the other way (e.g. fill empty only, except overwrite the address):
code-write_failed = Writing the import failed and nothing was imported; see the job for the cause, then run it again.
# Imports of orders with their lines.
import-entity = The file holds
import-entity_customers = Customers
import-entity_orders = Orders (one row per order line)
import-entity_hint = An orders file has one row per order line; rows with the same order number are one order. The buyer is named by their Guanxi customer id or by a mobile, email or WeChat id already on file.
label-import_entity-customers = Customers
label-import_entity-orders = Orders
import-channel = Channel of rows without one
import-on_duplicate_order = An order number already on file
import-choice_skip_order = Skip the order
import-choice_fail_order = Report it as a problem
import-matched_order_ref = order number
import-plan_orders =
    { $count ->
        [one] 1 new order
       *[other] { $n } new orders
    }
import-plan_order_lines =
    { $count ->
        [one] with 1 line
       *[other] with { $n } lines
    }
import-orders_on_file =
    { $count ->
        [one] 1 order number is already on file
       *[other] { $n } order numbers are already on file
    }
import-undo_orders_confirm = Delete the orders this import created?
import-undone_orders_removed =
    { $count ->
        [one] Undone: 1 imported order deleted,
       *[other] Undone: { $n } imported orders deleted,
    }
import-undone_orders_kept =
    { $count ->
        [one] 1 order kept because points, a coupon, a ticket or a deal refers to it.
       *[other] { $n } orders kept because points, coupons, tickets or deals refer to them.
    }
field-order_ref = Order number
field-customer_id = Customer id
field-ordered_at = Order time
field-channel = Channel
field-store = Store
field-currency = Currency
field-sku = SKU
field-product_name = Product name
field-category = Category
field-quantity = Quantity
field-unit_price = Unit price (yuan)
field-line_amount = Line amount (yuan)
code-buyer_not_mapped = Choose the column that names the buyer: customer id, mobile, email or WeChat id.
code-ordered_at_not_mapped = Choose the column with the order time.
code-sku_not_mapped = Choose the column with the product SKU.
code-price_not_mapped = Choose the column with the unit price or the line amount.
code-amount_mismatch = The line amount is not quantity × unit price.
code-amount_not_divisible = The line amount cannot be split evenly over the quantity; give the unit price.
code-order_rows_disagree = This row has the same order number as an earlier one but another buyer, time, channel, store or currency.
code-order_has_problems = Another row of this order has a problem, so the order is left out whole.
code-customer_not_found = No customer you can see has this id, phone, email or WeChat id.
code-ambiguous_customer = Several customers have this phone, email or WeChat id; name the buyer by customer id.
code-order_on_file = An order with this number is already on file.
# Imports of interactions.
import-entity_interactions = Interactions (one row per contact)
label-import_entity-interactions = Interactions
import-interaction_channel = Channel of rows without one
import-on_duplicate_interaction = The same contact already on file
import-choice_skip_interaction = Skip the row
import-choice_fail_interaction = Report it as a problem
import-matched_same_interaction = same customer, time, channel and subject
import-plan_interactions =
    { $count ->
        [one] 1 new interaction
       *[other] { $n } new interactions
    }
import-interactions_on_file =
    { $count ->
        [one] 1 row is already on file
       *[other] { $n } rows are already on file
    }
import-undo_records_confirm = Delete the records this import created?
import-undone_records_removed =
    { $count ->
        [one] Undone: 1 imported record deleted,
       *[other] Undone: { $n } imported records deleted,
    }
import-undone_records_kept =
    { $count ->
        [one] 1 kept because it was changed since or something refers to it.
       *[other] { $n } kept because they were changed since or something refers to them.
    }
field-occurred_at = Time
field-interaction_channel = Channel
field-direction = Direction
field-purpose = Purpose
field-subject = Subject
field-body = Notes
code-occurred_at_not_mapped = Choose the column with the time of the contact.
code-subject_not_mapped = Choose the column with the subject.
code-interaction_on_file = This contact (same customer, time, channel and subject) is already on file.
# Imports of sales opportunities.
import-entity_opportunities = Opportunities (one row per deal)
label-import_entity-opportunities = Opportunities
import-pipeline = Pipeline of rows without one
import-pipeline_first = The first active pipeline
import-on_duplicate_deal = The customer already has a deal of that name
import-choice_skip_deal = Skip the row
import-choice_fail_deal = Report it as a problem
import-matched_same_deal = same customer and deal name
import-plan_deals =
    { $count ->
        [one] 1 new deal
       *[other] { $n } new deals
    }
import-deals_on_file =
    { $count ->
        [one] 1 deal is already on file
       *[other] { $n } deals are already on file
    }
field-deal_name = Deal name
field-pipeline = Pipeline
field-stage = Stage
field-amount = Amount (yuan)
field-probability = Probability (%)
field-expected_close = Expected close
field-next_step = Next step
field-source = Source
field-competitors = Competitors
field-stated_needs = Needs
code-deal_name_not_mapped = Choose the column with the deal's name.
code-unknown_pipeline = No active pipeline has this name.
code-no_pipeline = There is no active pipeline to put the deal in.
code-unknown_stage = The pipeline has no stage of this name.
code-unknown_user = No active user has this login or name.
code-deal_on_file = This customer already has a deal of this name.
# Who may import.
import-sales_may_import = Sales reps may import into their own book
import-sales_may_import_hint = New customers are theirs; matches and buyers are looked for only among the customers they see. Managers and admins always may.
import-save_policy = Save
code-forbidden_owner = You can import only into your own book.
