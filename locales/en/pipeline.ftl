# The sales pipeline: opportunities, their stages, the timeline entries of their moves.
timeline-opportunity = Opportunity
label-stage_kind-open = Open
label-stage_kind-won = Won
label-stage_kind-lost = Lost
nav-pipeline = Pipeline
pipeline-title = Sales pipeline
pipeline-opportunity = Opportunity
pipeline-new = New opportunity
pipeline-forecast = Forecast
pipeline-pipeline = Pipeline
pipeline-board_hint = Drag a deal onto another stage, or pick the stage under it and press Move (keyboard). Sums count every deal you can see; each column shows the most recently changed.
pipeline-weighted = weighted
pipeline-close = Expected close
pipeline-days_in_stage =
    { $count ->
        [one] 1 day in stage
       *[other] { $n } days in stage
    }
pipeline-move_to = Move to stage
pipeline-move = Move
pipeline-more_cards = More deals in this stage than shown.
pipeline-moved = Moved.
pipeline-conflict = Someone moved or changed this deal while you had it open; below is how it stands now. Check it and move it again.
pipeline-customer = Customer
pipeline-stage = Stage
pipeline-owner = Owner
pipeline-amount = Amount
pipeline-probability = Probability
pipeline-own = set by the rep
pipeline-next_step = Next step
pipeline-stated_needs = Stated needs (显性需求)
pipeline-latent_needs = Latent needs (隐性需求)
pipeline-competitors = Competitors
pipeline-source = Source
pipeline-product = Product
pipeline-quantity = Quantity
pipeline-price = Unit price
pipeline-lost_reason = Lost reason (for a lost stage)
pipeline-lost_note = Note on the loss
pipeline-history = Stage history
pipeline-when = When
pipeline-from = From
pipeline-to = To
pipeline-days = Days in the stage left
pipeline-who = By
pipeline-customer_id = Customer number
pipeline-name = Name
pipeline-amount_hint = ¥, or leave empty and list the products
pipeline-probability_hint = the stage's when empty
pipeline-competitors_hint = separated by commas
pipeline-lines_hint = With products, the amount is their total.
pipeline-create = Create
pipeline-forecast_explain = Open deals by expected close month and owner: their amounts, and weighted by probability (won 100 %, lost 0 %, otherwise the rep's own figure or the stage's). Won shows deals already won that were expected to close that month.
pipeline-months = Months ahead
pipeline-forecast_empty = No open or won deals expected to close in these months.
pipeline-month = Month
pipeline-open = Open deals
pipeline-won = Won
pipeline-total = Total
pipeline-no_date = No close date
code-not_in_pipeline = This stage is not one of the pipeline's.
code-lost_needs_a_move = A deal is lost by moving it to the lost stage with a reason, not created there.
code-pipeline_inactive = This pipeline is no longer used for new deals.
code-not_a_month_start = Give the first day of a month.
code-one_won_stage = A pipeline needs exactly one won stage.
code-no_open_stage = A pipeline needs at least one open stage.
code-no_lost_stage = A pipeline needs at least one lost stage.
code-too_few = Too few.
pipeline-funnel = Funnel
pipeline-funnel_explain =
    { $count ->
        [one] Over the 1 deal created in the last 365 days: how many reached each stage (skipping a stage passes it), the share of the previous stage's that got this far, and the mean days deals spent in the stage.
       *[other] Over the { $n } deals created in the last 365 days: how many reached each stage (skipping a stage passes it), the share of the previous stage's that got this far, and the mean days deals spent in the stage.
    }
pipeline-reached = Reached
pipeline-conversion = From the stage before
pipeline-mean_days = Mean days in stage
pipeline-win_rate = Win rate
pipeline-lost = Lost
pipeline-cycle_days = Days to win
pipeline-no_source = No source
pipeline-order = Order
pipeline-create_order = Create the order from its products
code-not_won = Only a won deal has an order.
pipeline-stale_title =
    { $count ->
        [one] Deals untouched for 1 day
       *[other] Deals untouched for { $n } days
    }
pipeline-stale_none = No open deal has gone untouched that long.
pipeline-untouched = Last moved
pipeline-days_ago =
    { $count ->
        [one] 1 day ago
       *[other] { $n } days ago
    }
pipeline-edit = Edit opportunity
pipeline-edit_conflict = Someone changed this deal while you were editing it. Your changes are still in the form: check them and save again to overwrite.
code-cannot_change = This cannot be changed here.
code-use_move = Change the stage by moving the deal.
pipeline-settings = Pipeline settings
pipeline-settings_hint = Stages in the order deals move through them: at least one open stage, exactly one won, at least one lost. Empty a stage's name to retire it (its history stays); fill a blank row to add one. A stage holding open deals keeps its kind and cannot be retired.
pipeline-settings_conflict = Someone changed this pipeline while you had the page open; reload to see it.
pipeline-active = Used for new deals
pipeline-kind = Kind
pipeline-new_pipeline = New pipeline
pipeline-lost_reasons = Lost reasons
pipeline-needs_note = needs a note
pipeline-stop_offering = Stop offering
pipeline-offer_again = Offer again
pipeline-add = Add
code-stage_in_use = This stage holds open deals: move them first.
pipeline-deals = Deals
pipeline-status = Status
pipeline-any = Any
pipeline-mine = Mine
pipeline-close_from = Closing from
pipeline-close_to = Closing before
pipeline-no_deals = No deals match.
pipeline-older = Earlier changed deals
pipeline-by_team = By team
pipeline-team = Team
pipeline-no_team = No team
pipeline-stage_win_rate = Won of those closed after reaching it
