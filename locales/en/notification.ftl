# Notifications in the app: the bell in the header and the list of a user's notifications.
notification-title = Notifications
notification-unread =
    { $count ->
        [one] 1 unread
       *[other] { $n } unread
    }
notification-none_unread = Nothing unread
notification-show_all = Show all
notification-show_unread = Show unread only
notification-read_all = Mark all read
notification-empty = No notifications. Rules that notify you about your customers put them here.
notification-new = New
notification-open = Open customer
notification-mark_read = Mark read
notification-older = Older notifications
