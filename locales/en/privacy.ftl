### Data-subject requests.
### Keys `area.name` in code are ids `area-name` here.

dsr-title = Data-subject request
dsr-export_hint = Download everything held about this customer (unmasked, with audit entries):
dsr-erase = Erase this customer
dsr-erase_warning = This cannot be undone: name, ID, contact points, the text of interactions and tasks, relations and scores are removed; orders are kept for the books but no longer point to a person.
dsr-reason = Reason (kept in the audit log)
dsr-confirm = Type the customer's name “{ $name }” to confirm
dsr-erase_now = Erase for good
dsr-confirm_mismatch = The name typed does not match; nothing was erased.
dsr-erased = The customer was erased.
