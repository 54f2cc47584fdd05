//! The rules page: the rules with how often each fired, the form for a new one (or, on
//! `/rules/{id}`, for that rule, with its firing log), and the dry run button that says whom
//! the rule would fire for before it is switched on. Amounts are typed in yuan.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use guanxi_app::rule as uc;
use guanxi_domain::care::Occasion;
use guanxi_domain::money::parse_money;
use guanxi_domain::role::Permission;
use guanxi_domain::rule::{Action, RuleInput, Trigger};
use guanxi_domain::ticket::TicketKind;
use guanxi_domain::ValidationError;
use guanxi_store::rule::{RulePreview, RuleRecord};
use guanxi_text::format;

use crate::features::customers::list::user_names;
use crate::state::AppState;
use crate::ui::render;
use crate::ui::session::{
    field_messages, form_refusal, page_err, Ctx, FormData, Submitted, UiError, UiUser,
};

/// Action rows the form offers.
const ACTION_ROWS: usize = 3;
/// Firings the rule page lists.
const LOG_ROWS: i64 = 100;

struct RuleView {
    id: i64,
    name: String,
    active: bool,
    trigger: String,
    actions: String,
    fired: i64,
    failed: i64,
}

struct FiringView {
    customer_id: i64,
    customer: String,
    cause: String,
    at: String,
    status: String,
    failed: bool,
    outcome: String,
}

#[derive(Template)]
#[template(path = "rule/page.html")]
struct RulesTpl {
    ctx: Ctx,
    rules: Vec<RuleView>,
    editing: Option<(i64, i64)>,
    log: Vec<FiringView>,
    v: HashMap<String, String>,
    errors: Vec<String>,
    preview: Option<String>,
    sample: Vec<(i64, String)>,
    triggers: Vec<(&'static str, String)>,
    action_kinds: Vec<(&'static str, String)>,
    segments: Vec<(i64, String)>,
    offers: Vec<(i64, String)>,
    /// Surveys an action can send: (id, name).
    surveys: Vec<(i64, String)>,
    users: Vec<(i64, String)>,
    campaigns: Vec<(i64, String)>,
    occasions: Vec<(String, String)>,
    ticket_kinds: Vec<(&'static str, String)>,
    action_rows: Vec<usize>,
}

impl RulesTpl {
    fn val(&self, k: &str) -> &str {
        self.v.get(k).map(String::as_str).unwrap_or("")
    }
    fn row(&self, prefix: &str, i: &usize) -> &str {
        self.val(&format!("{prefix}_{i}"))
    }
}

/// One line describing a trigger: "Churn risk ≥ 70 %".
fn trigger_text(ctx: &Ctx, t: &Trigger, segments: &HashMap<i64, String>) -> String {
    let label = ctx.label("rule_trigger", t.code());
    let seg = |id: &i64| {
        segments
            .get(id)
            .cloned()
            .unwrap_or_else(|| format!("#{id}"))
    };
    let detail = match t {
        Trigger::SegmentEntered { segment_id } | Trigger::SegmentLeft { segment_id } => {
            seg(segment_id)
        }
        Trigger::ChurnRisk { percent } => format!("≥ {percent} %"),
        Trigger::SpendReached { amount_minor } => {
            format!("≥ ¥{}", format::plain_money(*amount_minor))
        }
        Trigger::ComplaintsReached { count, days } => ctx.tf(
            "rule.complaints_in",
            &[("n", &count.to_string()), ("days", &days.to_string())],
        ),
        Trigger::OrderPlaced { min_amount_minor } => {
            format!("≥ ¥{}", format::plain_money(*min_amount_minor))
        }
        Trigger::TicketOpened { ticket_kind } | Trigger::TicketResolved { ticket_kind } => {
            ticket_kind
                .as_deref()
                .map(|k| ctx.label("ticket_kind", k))
                .unwrap_or_default()
        }
        Trigger::Occasion {
            occasion,
            days_before,
        } => match Occasion::parse(occasion) {
            Ok(Occasion::Customer(k)) => ctx.tf(
                "rule.days_before",
                &[
                    ("occasion", &ctx.label("care_occasion", k.as_str())),
                    ("n", &days_before.to_string()),
                ],
            ),
            _ => occasion.clone(),
        },
        Trigger::TurnedDormant | Trigger::OrdersFalling | Trigger::OrderAnomaly => String::new(),
    };
    if detail.is_empty() {
        label
    } else {
        format!("{label}: {detail}")
    }
}

/// Names of what actions refer to, by id, for their text.
struct Names {
    offers: HashMap<i64, String>,
    surveys: HashMap<i64, String>,
    users: HashMap<i64, String>,
    campaigns: HashMap<i64, String>,
}

fn name_of(names: &HashMap<i64, String>, id: i64) -> String {
    names.get(&id).cloned().unwrap_or_else(|| format!("#{id}"))
}

fn action_text(ctx: &Ctx, a: &Action, names: &Names) -> String {
    let (offers, surveys) = (&names.offers, &names.surveys);
    let label = ctx.label("rule_action", a.code());
    match a {
        Action::Task { title, due_days } => format!(
            "{label} “{title}” ({})",
            ctx.count("rule.due_in", *due_days)
        ),
        Action::AddTag { tag } | Action::RemoveTag { tag } => format!("{label} “{tag}”"),
        Action::AwardPoints { points, .. } => format!("{label} {points}"),
        Action::IssueCoupon { offer_id } => format!(
            "{label} “{}”",
            offers
                .get(offer_id)
                .cloned()
                .unwrap_or_else(|| format!("#{offer_id}"))
        ),
        Action::SendSurvey { survey_id } => format!(
            "{label} “{}”",
            surveys
                .get(survey_id)
                .cloned()
                .unwrap_or_else(|| format!("#{survey_id}"))
        ),
        Action::Notify { message, user_id } => format!(
            "{label} {} “{message}”",
            match user_id {
                Some(u) => name_of(&names.users, *u),
                None => ctx.t("rule.notify_owner").to_string(),
            }
        ),
        Action::EnrolCampaign { campaign_id } => {
            format!("{label} “{}”", name_of(&names.campaigns, *campaign_id))
        }
    }
}

/// The form's values for a stored rule.
fn values_of(r: &RuleInput) -> HashMap<String, String> {
    let mut v = HashMap::new();
    v.insert("name".into(), r.name.clone());
    if r.active {
        v.insert("active".into(), "1".into());
    }
    if let Some(s) = r.segment_id {
        v.insert("segment_id".into(), s.to_string());
    }
    v.insert("trigger".into(), r.trigger.code().into());
    let mut put = |k: &str, x: String| {
        v.insert(k.into(), x);
    };
    match &r.trigger {
        Trigger::SegmentEntered { segment_id } | Trigger::SegmentLeft { segment_id } => {
            put("trigger_segment_id", segment_id.to_string())
        }
        Trigger::ChurnRisk { percent } => put("percent", percent.to_string()),
        Trigger::SpendReached { amount_minor } => put("amount", format::plain_money(*amount_minor)),
        Trigger::ComplaintsReached { count, days } => {
            put("count", count.to_string());
            put("days", days.to_string());
        }
        Trigger::OrderPlaced { min_amount_minor } => {
            put("amount", format::plain_money(*min_amount_minor))
        }
        Trigger::TicketOpened { ticket_kind } | Trigger::TicketResolved { ticket_kind } => {
            put("ticket_kind", ticket_kind.clone().unwrap_or_default())
        }
        Trigger::Occasion {
            occasion,
            days_before,
        } => {
            put("occasion", occasion.clone());
            put("days_before", days_before.to_string());
        }
        Trigger::TurnedDormant | Trigger::OrdersFalling | Trigger::OrderAnomaly => {}
    }
    for (i, a) in r.actions.iter().enumerate() {
        put(&format!("action_{i}"), a.code().into());
        match a {
            Action::Task { title, due_days } => {
                put(&format!("action_text_{i}"), title.clone());
                put(&format!("action_number_{i}"), due_days.to_string());
            }
            Action::AddTag { tag } | Action::RemoveTag { tag } => {
                put(&format!("action_text_{i}"), tag.clone())
            }
            Action::AwardPoints {
                points,
                expiry_months,
            } => {
                put(&format!("action_number_{i}"), points.to_string());
                put(&format!("action_months_{i}"), expiry_months.to_string());
            }
            Action::IssueCoupon { offer_id } => {
                put(&format!("action_offer_{i}"), offer_id.to_string())
            }
            Action::SendSurvey { survey_id } => {
                put(&format!("action_survey_{i}"), survey_id.to_string())
            }
            Action::Notify { message, user_id } => {
                put(&format!("action_text_{i}"), message.clone());
                if let Some(u) = user_id {
                    put(&format!("action_user_{i}"), u.to_string());
                }
            }
            Action::EnrolCampaign { campaign_id } => {
                put(&format!("action_campaign_{i}"), campaign_id.to_string())
            }
        }
    }
    v
}

/// Reads the form; what is not a number or an amount is named by its rule path.
fn rule_of(form: &FormData) -> Result<RuleInput, Vec<ValidationError>> {
    let mut errs = Vec::new();
    let mut int = |name: &str, field: &str, default: i64| -> i64 {
        form.int(name, field, &mut errs).unwrap_or(default)
    };
    let code = form.get("trigger").unwrap_or("");
    let trigger = match code {
        "segment_entered" => Some(Trigger::SegmentEntered {
            segment_id: int("trigger_segment_id", "trigger.segment_id", 0),
        }),
        "segment_left" => Some(Trigger::SegmentLeft {
            segment_id: int("trigger_segment_id", "trigger.segment_id", 0),
        }),
        "churn_risk" => Some(Trigger::ChurnRisk {
            percent: int("percent", "trigger.percent", 70),
        }),
        "turned_dormant" => Some(Trigger::TurnedDormant),
        "orders_falling" => Some(Trigger::OrdersFalling),
        "complaints_reached" => Some(Trigger::ComplaintsReached {
            count: int("count", "trigger.count", 3),
            days: int("days", "trigger.days", 90),
        }),
        "order_anomaly" => Some(Trigger::OrderAnomaly),
        "ticket_opened" => Some(Trigger::TicketOpened {
            ticket_kind: form.get("ticket_kind").map(str::to_string),
        }),
        "ticket_resolved" => Some(Trigger::TicketResolved {
            ticket_kind: form.get("ticket_kind").map(str::to_string),
        }),
        "occasion" => Some(Trigger::Occasion {
            occasion: form.get("occasion").unwrap_or("").to_string(),
            days_before: int("days_before", "trigger.days_before", 0),
        }),
        _ => None,
    };
    let mut amount = |field: &str| -> i64 {
        parse_money(form.get("amount").unwrap_or("")).unwrap_or_else(|_| {
            errs.push(ValidationError::new(field.to_string(), "invalid_money"));
            0
        })
    };
    let trigger = match (code, trigger) {
        ("spend_reached", _) => Trigger::SpendReached {
            amount_minor: amount("trigger.amount_minor"),
        },
        ("order_placed", _) => Trigger::OrderPlaced {
            min_amount_minor: if form.get("amount").is_some() {
                amount("trigger.min_amount_minor")
            } else {
                0
            },
        },
        (_, Some(t)) => t,
        (_, None) => {
            errs.push(ValidationError::new("trigger", "unknown_value"));
            Trigger::TurnedDormant
        }
    };
    let mut int = |name: &str, field: String, default: i64| -> i64 {
        form.int(name, field, &mut errs).unwrap_or(default)
    };
    let mut actions = Vec::new();
    for i in 0..ACTION_ROWS {
        let k = actions.len();
        let text = form
            .get(&format!("action_text_{i}"))
            .unwrap_or("")
            .to_string();
        let a = match form.get(&format!("action_{i}")) {
            Some("task") => Action::Task {
                title: text,
                due_days: int(
                    &format!("action_number_{i}"),
                    format!("actions[{k}].due_days"),
                    1,
                ),
            },
            Some("add_tag") => Action::AddTag { tag: text },
            Some("remove_tag") => Action::RemoveTag { tag: text },
            Some("award_points") => Action::AwardPoints {
                points: int(
                    &format!("action_number_{i}"),
                    format!("actions[{k}].points"),
                    0,
                ),
                expiry_months: int(
                    &format!("action_months_{i}"),
                    format!("actions[{k}].expiry_months"),
                    0,
                ),
            },
            Some("issue_coupon") => Action::IssueCoupon {
                offer_id: int(
                    &format!("action_offer_{i}"),
                    format!("actions[{k}].offer_id"),
                    0,
                ),
            },
            Some("send_survey") => Action::SendSurvey {
                survey_id: int(
                    &format!("action_survey_{i}"),
                    format!("actions[{k}].survey_id"),
                    0,
                ),
            },
            Some("notify") => Action::Notify {
                message: text,
                user_id: form.get(&format!("action_user_{i}")).map(|_| {
                    int(
                        &format!("action_user_{i}"),
                        format!("actions[{k}].user_id"),
                        0,
                    )
                }),
            },
            Some("enrol_campaign") => Action::EnrolCampaign {
                campaign_id: int(
                    &format!("action_campaign_{i}"),
                    format!("actions[{k}].campaign_id"),
                    0,
                ),
            },
            _ => continue,
        };
        actions.push(a);
    }
    let segment_id = form.get("segment_id").map(|s| {
        s.parse::<i64>().unwrap_or_else(|_| {
            errs.push(ValidationError::new("segment_id", "invalid_type"));
            0
        })
    });
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(RuleInput {
        name: form.get("name").unwrap_or("").to_string(),
        trigger,
        segment_id,
        actions,
        active: form.get("active").is_some(),
    })
}

struct PageState {
    editing: Option<(i64, i64)>,
    v: HashMap<String, String>,
    errors: Vec<String>,
    preview: Option<RulePreview>,
    status: StatusCode,
}

async fn page(st: &AppState, user: &UiUser, p: PageState) -> Result<Response, UiError> {
    let rules = uc::list(&st.store, &user.actor)
        .await
        .map_err(page_err(user.locale))?;
    let segments = guanxi_app::care::plan_segments(&st.store, &user.actor)
        .await
        .unwrap_or_default();
    let seg_names: HashMap<i64, String> = segments.iter().cloned().collect();
    let offers = uc::coupon_offers(&st.store, &user.actor)
        .await
        .map_err(page_err(user.locale))?;
    let offer_names: HashMap<i64, String> = offers.iter().cloned().collect();
    // Who may set rules up but not surveys sees no survey to pick.
    let surveys: Vec<(i64, String)> = guanxi_app::survey::list_surveys(&st.store, &user.actor)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let survey_names: HashMap<i64, String> = surveys.iter().cloned().collect();
    let users = user_names(st, user).await?;
    // Who may set rules up but not campaigns sees no campaign to pick.
    let campaigns: Vec<(i64, String)> = guanxi_app::campaign::list(&st.store, &user.actor)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|k| (k.id, k.campaign.name))
        .collect();
    let names = Names {
        offers: offer_names,
        surveys: survey_names,
        users: users.iter().cloned().collect(),
        campaigns: campaigns.iter().cloned().collect(),
    };
    let ctx = user.ctx("rule.title");
    let tz = format::zone(st.utc_offset_hours);
    let log = match p.editing {
        Some((id, _)) => uc::firings(&st.store, &user.actor, Some(id), LOG_ROWS)
            .await
            .map_err(page_err(user.locale))?,
        None => Vec::new(),
    };
    let preview = p.preview.as_ref().map(|r| {
        if r.segment_gone {
            ctx.t("rule.segment_gone").to_string()
        } else {
            match r.days {
                Some(d) => ctx.tf(
                    "rule.preview_events",
                    &[("n", &r.customers.to_string()), ("days", &d.to_string())],
                ),
                None => ctx.count("rule.preview", r.customers),
            }
        }
    });
    let tpl = RulesTpl {
        rules: rules
            .iter()
            .map(|r: &RuleRecord| RuleView {
                id: r.id,
                name: r.rule.name.clone(),
                active: r.rule.active,
                trigger: trigger_text(&ctx, &r.rule.trigger, &seg_names),
                actions: r
                    .rule
                    .actions
                    .iter()
                    .map(|a| action_text(&ctx, a, &names))
                    .collect::<Vec<_>>()
                    .join(" · "),
                fired: r.fired,
                failed: r.failed,
            })
            .collect(),
        log: log
            .into_iter()
            .map(|f| FiringView {
                customer_id: f.customer_id,
                customer: f.customer_name,
                cause: f.cause,
                at: format::datetime(f.fired_at, tz),
                failed: f.status == "failed",
                status: ctx.label("rule_firing", &f.status),
                outcome: f.outcome.unwrap_or_default(),
            })
            .collect(),
        editing: p.editing,
        v: p.v,
        errors: p.errors,
        preview,
        sample: p.preview.map(|r| r.sample).unwrap_or_default(),
        triggers: Trigger::CODES
            .iter()
            .map(|c| (*c, ctx.label("rule_trigger", c)))
            .collect(),
        action_kinds: Action::CODES
            .iter()
            .map(|c| (*c, ctx.label("rule_action", c)))
            .collect(),
        segments,
        offers,
        surveys,
        users,
        campaigns,
        occasions: Occasion::all()
            .into_iter()
            .filter_map(|o| match o {
                Occasion::Customer(k) => Some((o.code(), ctx.label("care_occasion", k.as_str()))),
                Occasion::Festival(_) => None,
            })
            .collect(),
        ticket_kinds: TicketKind::ALL
            .iter()
            .map(|k| (k.as_str(), ctx.label("ticket_kind", k.as_str())))
            .collect(),
        action_rows: (0..ACTION_ROWS).collect(),
        ctx,
    };
    let mut r = render(user.locale, &tpl);
    *r.status_mut() = p.status;
    Ok(r)
}

/// The rules with the form for a new one.
pub async fn rules(State(st): State<AppState>, user: UiUser) -> Result<Response, UiError> {
    user.require(Permission::ManageRules)?;
    let mut v = HashMap::new();
    v.insert("active".to_string(), "1".to_string());
    v.insert("action_0".to_string(), "task".to_string());
    v.insert("action_number_0".to_string(), "1".to_string());
    page(
        &st,
        &user,
        PageState {
            editing: None,
            v,
            errors: Vec::new(),
            preview: None,
            status: StatusCode::OK,
        },
    )
    .await
}

/// One rule: its form and its firing log.
pub async fn rule(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    user: UiUser,
) -> Result<Response, UiError> {
    user.require(Permission::ManageRules)?;
    let r = uc::get(&st.store, &user.actor, id)
        .await
        .map_err(page_err(user.locale))?;
    page(
        &st,
        &user,
        PageState {
            editing: Some((r.id, r.version)),
            v: values_of(&r.rule),
            errors: Vec::new(),
            preview: None,
            status: StatusCode::OK,
        },
    )
    .await
}

/// Saves the form (a new rule, or with `id` and `version` a change), or with the "dry run"
/// button counts whom it would fire for.
pub async fn save(
    State(st): State<AppState>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::ManageRules)?;
    let id = form.get("id").and_then(|i| i.parse::<i64>().ok());
    let version = form
        .get("version")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);
    let editing = id.map(|i| (i, version));
    let refused = |errors: Vec<String>, status: StatusCode| PageState {
        editing,
        v: form.values(),
        errors,
        preview: None,
        status,
    };
    let input = match rule_of(&form) {
        Ok(i) => i,
        Err(errs) => {
            let errors = field_messages(user.locale, &errs);
            return page(
                &st,
                &user,
                refused(errors, StatusCode::UNPROCESSABLE_ENTITY),
            )
            .await;
        }
    };
    if form.get("preview").is_some() {
        return match uc::preview(&st.store, &user.actor, &input, id, st.as_of()).await {
            Ok(p) => {
                let mut s = refused(Vec::new(), StatusCode::OK);
                s.preview = Some(p);
                page(&st, &user, s).await
            }
            Err(e) => {
                let (status, errs) = form_refusal(user.locale, e)?;
                page(
                    &st,
                    &user,
                    refused(field_messages(user.locale, &errs), status),
                )
                .await
            }
        };
    }
    let saved = match id {
        Some(id) => uc::update(&st.store, &user.actor, id, version, &input).await,
        None => uc::create(&st.store, &user.actor, &input).await,
    };
    match saved {
        Ok(r) => {
            st.jobs.wake();
            Ok(Redirect::to(&format!("/rules/{}", r.id)).into_response())
        }
        Err(e) => {
            let (status, errs) = form_refusal(user.locale, e)?;
            page(
                &st,
                &user,
                refused(field_messages(user.locale, &errs), status),
            )
            .await
        }
    }
}
