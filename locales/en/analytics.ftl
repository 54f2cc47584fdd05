### Scores, analytics, the dashboard.
### Keys `area.name` in code are ids `area-name` here.

dashboard-by_stage = Customers by lifecycle stage
dashboard-customers = Customers
dashboard-empty = No customers yet.
dashboard-empty_hint = You can also import with guanxi import customers, or run guanxi demo for sample data.
dashboard-all_tasks = All tasks »
dashboard-my_tasks = My open tasks
dashboard-new_customers = New customers
dashboard-new_per_month = New customers per month
dashboard-no_tasks = Nothing to do.
dashboard-open_tasks = Open tasks
dashboard-orders = Orders
dashboard-revenue = Revenue
dashboard-revenue_per_month = Revenue and orders per month
dashboard-month_to_date = { $m } (to date)
dashboard-revenue_yuan = Revenue (yuan)
dashboard-title = Dashboard
scores-activity = Activity
scores-churn = Churn risk
scores-clv = Customer lifetime value
scores-computed_at = Computed
scores-days_ago = { $n } days ago
scores-frequency = Orders
scores-monetary = Total spend
scores-none = No scores yet: no orders, or scores not computed yet (guanxi scores refresh).
scores-p_alive = P(alive)
scores-recency = Last purchase
scores-rfm = RFM scores
scores-rfm_segment = RFM segment
scores-title = Scores
scores-value_cell = Value matrix
scores-job = Score refresh
scores-never = Scores have not been computed yet.
scores-last_run =
    { $count ->
        [one] Last computed { $at } for 1 customer.
       *[other] Last computed { $at } for { $n } customers.
    }
scores-running = Running…
scores-failed = The last refresh failed; the server log has the details.
scores-done = Refresh finished.
scores-refresh_now = Refresh now
scores-schedule_hint = The server also refreshes on a schedule (every 24 hours by default).
explain-recency = last bought { $n } days ago
explain-interval = used to buy about every { $n } days
explain-overdue = { $n }× their usual gap
explain-orders = { $f } orders, { $m } in total
explain-one_order = 1 order, { $m } in total
explain-falling = buying less often than before
explain-churn = churn risk { $p }, mainly { $reason }
explain-churn_low = churn risk { $p }, no higher than an average customer's
explain-clv = expected future value { $n }
explain-separator = ;{" "}
explain-colon = :{" "}
explain-action = Suggested
analytics-title = Customer analytics
analytics-empty = No scores yet: once there are orders, run a score refresh ("Refresh now" on the dashboard).
analytics-summary =
    { $count ->
        [one] From the last score refresh: 1 customer with orders (those you may see).
       *[other] From the last score refresh: { $n } customers with orders (those you may see).
    }
analytics-click_hint = Click a cell or bar to open those customers.
analytics-rf_grid = RFM grid (recency × frequency)
analytics-value_matrix = Value matrix (frequency × average spend)
analytics-pareto = Pareto curve (80/20)
analytics-pareto_text = The top 20% of customers bring { $p } of revenue.
analytics-segments = Customers per RFM segment
analytics-clv_distribution = Customer lifetime value distribution
analytics-top_clv = Top customers by lifetime value
analytics-churn_risk = Customers most at risk of churning
analytics-segment_history = Segment sizes over time (per score refresh)
analytics-reason = Main reason
analytics-f_axis = Frequency score (F)
analytics-r_axis = Recency score (R)
analytics-customer_share = Share of customers %
analytics-revenue_share = Share of revenue %
analytics-clv_yuan = Lifetime value (yuan)
