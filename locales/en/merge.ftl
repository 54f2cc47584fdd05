### Duplicates and merge.
### Keys `area.name` in code are ids `area-name` here.

merge-title = Merge duplicate customers
merge-explain = The record on the left is kept; the one on the right is merged into it and deleted. Choose which value to keep for each field; tags are combined.
merge-kept = kept
merge-merged_away = merged in
merge-same = same on both
merge-tags_union = tags of both records
merge-moves_title = What moves to the kept record
merge-moves_contacts =
    { $count ->
        [one] { $n } contact point
       *[other] { $n } contact points
    }
merge-moves_orders =
    { $count ->
        [one] { $n } order
       *[other] { $n } orders
    }
merge-moves_interactions =
    { $count ->
        [one] { $n } interaction
       *[other] { $n } interactions
    }
merge-moves_tasks =
    { $count ->
        [one] { $n } task
       *[other] { $n } tasks
    }
merge-moves_relations =
    { $count ->
        [one] { $n } relation
       *[other] { $n } relations
    }
merge-moves_tags =
    { $count ->
        [one] { $n } new tag
       *[other] { $n } new tags
    }
merge-moves_nothing = The other record has no contact points, orders, interactions, tasks or relations to move.
merge-undo_hint = The merge is audited and can be undone from the kept record's page for 30 days.
merge-submit = Merge
merge-swap = Keep the other record instead
merge-conflict = Someone changed one of these records meanwhile; below is the latest. Check and merge again.
merge-compare = Compare and merge
merge-choose_hint = Choose the duplicate record to merge into this customer.
merge-possible = Possible duplicates
merge-none_found = No customer shares this one's mobile, email, WeChat or ID number.
merge-find = Find another record
merge-section = Duplicates and merges
merge-other = Merge another record…
merge-history = Records merged into this one
merge-undo = Undo merge
merge-undo_until = can be undone until { $date }
