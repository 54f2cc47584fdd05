# Customer care: the care list, greetings given, care plans.
nav-care = Care
care-title = Customer care
care-plans = Care plans
care-days = Days ahead
care-whose = Whose customers
care-mine = Mine
care-everyone = Everyone I see
care-show = Show
care-festivals = Festivals
care-count =
    { $count ->
        [one] 1 date coming up
       *[other] { $n } dates coming up
    }
care-count_more =
    { $count ->
        [one] more than 1 date coming up
       *[other] more than { $n } dates coming up
    }
care-none = No birthdays, anniversaries or festivals in these days.
care-on = Day
care-customer = Customer
care-occasion = Occasion
care-last_time = Last time
care-this_time = This time
care-kind = What was given
care-channel = Channel
care-note = What it was (optional)
care-record = Record
care-recorded = Recorded: it is on the customer's timeline.
care-age = turns { $n }
care-years = { $n } years
care-plans_intro = A plan gives the customer's owner a task a number of days before an occasion, once per customer and occasion, whatever the schedule does. A festival plan needs a segment.
care-no_plans = No care plans yet.
care-plan_name = Name
care-days_before = Days before
care-segment = Segment
care-all_customers = All customers
care-task_title = Task
care-fired = Fired
care-pause = Pause
care-resume = Switch on
care-new_plan = New care plan
care-active = Switched on
care-preview =
    { $count ->
        [one] Switched on today, it would give 1 customer's owner a task.
       *[other] Switched on today, it would give { $n } customers' owners a task.
    }
care-preview_button = How many would it reach?
care-save_plan = Save plan
timeline-care = Care
label-care_occasion-birthday = Birthday
label-care_occasion-spouse_birthday = Spouse's birthday
label-care_occasion-wedding = Wedding anniversary
label-care_occasion-child_birthday = Child's birthday
label-care_occasion-customer_since = Customer anniversary
label-care_touch_kind-greeting = Greeting
label-care_touch_kind-gift = Gift
label-care_touch_kind-coupon = Coupon
label-care_festival-new_year = New Year's Day
label-care_festival-spring_festival = Spring Festival
label-care_festival-lantern = Lantern Festival
label-care_festival-womens_day = Women's Day
label-care_festival-mothers_day = Mother's Day
label-care_festival-dragon_boat = Dragon Boat Festival
label-care_festival-fathers_day = Father's Day
label-care_festival-teachers_day = Teachers' Day
label-care_festival-mid_autumn = Mid-Autumn Festival
label-care_festival-national_day = National Day
label-care_festival-double_ninth = Double Ninth Festival
