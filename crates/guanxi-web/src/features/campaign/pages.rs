//! The campaign pages: the campaigns with the form for a new draft (its audience preview
//! before saving: who gets it, who is held out, who waits for the frequency cap, who is
//! skipped and why), and each campaign's page — the draft's form, launch now or at a time,
//! pause, resume, cancel, a test send, and once it runs its delivery, responses, conversions,
//! revenue per variant and the lift over the control group.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use guanxi_app::campaign as uc;
use guanxi_domain::campaign::content::SmsParam;
use guanxi_domain::campaign::{AbMetric, AbTest, CampaignInput, CampaignState, Channel, Variant};
use guanxi_domain::role::Permission;
use guanxi_domain::ValidationError;
use guanxi_store::campaign::{AudiencePreview, CampaignFigures, CampaignRecord};
use guanxi_text::format;

use crate::state::AppState;
use crate::ui::render;
use crate::ui::session::{
    field_messages, form_refusal, page_err, Ctx, FormData, Submitted, UiError, UiUser,
};

struct CampaignView {
    id: i64,
    name: String,
    channel: String,
    state: String,
    state_code: &'static str,
    sent: i64,
}

struct VariantRow {
    label: String,
    recipients: i64,
    opened: i64,
    clicked: i64,
    converted: i64,
    revenue: String,
}

#[derive(Template)]
#[template(path = "campaign/page.html")]
struct CampaignsTpl {
    ctx: Ctx,
    campaigns: Vec<CampaignView>,
    /// The campaign shown (its page), with its version and state code.
    current: Option<(i64, i64, &'static str)>,
    editable: bool,
    v: HashMap<String, String>,
    chosen: Vec<i64>,
    excluded: Vec<i64>,
    errors: Vec<String>,
    flash: Option<String>,
    preview: Vec<(String, i64)>,
    segments: Vec<(i64, String)>,
    offers: Vec<(i64, String)>,
    channels: Vec<(&'static str, String)>,
    metrics: Vec<(&'static str, String)>,
    states: Vec<(String, i64)>,
    responses: Vec<(String, i64)>,
    skipped: Vec<(String, i64)>,
    deferred: Vec<(String, i64)>,
    variants: Vec<VariantRow>,
    lift: Option<String>,
    sent_by_day: Vec<(String, i64)>,
    pause_reason: Option<String>,
    /// (name, variant label, subject, body) for the first recipients.
    recipients: Vec<(String, String, String, String)>,
    /// The chart of messages and responses per day (ECharts options).
    chart: String,
    /// "Figures as of 10:20" for a large campaign's kept figures, or that they are being
    /// computed.
    figures_note: Option<String>,
}

impl CampaignsTpl {
    fn val(&self, k: &str) -> &str {
        self.v.get(k).map(String::as_str).unwrap_or("")
    }
    fn has_segment(&self, id: &i64) -> bool {
        self.chosen.contains(id)
    }
    fn has_exclude(&self, id: &i64) -> bool {
        self.excluded.contains(id)
    }
}

/// The form's values for a stored campaign.
fn values_of(c: &CampaignInput) -> HashMap<String, String> {
    let mut v = HashMap::new();
    v.insert("name".into(), c.name.clone());
    v.insert("channel".into(), c.channel.as_str().into());
    v.insert("control_percent".into(), c.control_percent.to_string());
    v.insert("attribution_days".into(), c.attribution_days.to_string());
    v.insert("spread_hours".into(), c.spread_hours.to_string());
    if let Some(d) = c.enrol_until {
        v.insert("enrol_until".into(), d.to_string());
    }
    if c.track_opens {
        v.insert("track_opens".into(), "1".into());
    }
    if let Some(o) = c.offer_id {
        v.insert("offer_id".into(), o.to_string());
    }
    for (i, var) in c.variants.iter().enumerate() {
        let s = if i == 0 { "a" } else { "b" };
        v.insert(format!("subject_zh_{s}"), var.subject_zh.clone());
        v.insert(format!("subject_en_{s}"), var.subject_en.clone());
        v.insert(format!("body_zh_{s}"), var.body_zh.clone());
        v.insert(format!("body_en_{s}"), var.body_en.clone());
        v.insert(format!("sms_template_{s}"), var.sms_template.clone());
        v.insert(
            format!("sms_params_{s}"),
            var.sms_params
                .iter()
                .map(|p| format!("{}={}", p.key, p.value))
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
    if let Some(ab) = c.ab {
        v.insert("ab".into(), "1".into());
        v.insert("ab_sample".into(), ab.sample_percent.to_string());
        v.insert("ab_hours".into(), ab.decide_after_hours.to_string());
        v.insert(
            "ab_metric".into(),
            match ab.metric {
                AbMetric::Opens => "opens",
                AbMetric::Clicks => "clicks",
                AbMetric::Conversions => "conversions",
            }
            .into(),
        );
    }
    v
}

fn variant_of(form: &FormData, s: &str) -> Option<Variant> {
    let get = |k: &str| form.get(&format!("{k}_{s}")).unwrap_or("").to_string();
    let v = Variant {
        subject_zh: get("subject_zh"),
        subject_en: get("subject_en"),
        body_zh: get("body_zh"),
        body_en: get("body_en"),
        sms_template: get("sms_template"),
        sms_params: get("sms_params")
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let (k, v) = l.split_once('=').unwrap_or((l, ""));
                SmsParam {
                    key: k.trim().to_string(),
                    value: v.trim().to_string(),
                }
            })
            .collect(),
    };
    let blank = v.subject_zh.is_empty() && v.body_zh.is_empty() && v.sms_template.is_empty();
    (s == "a" || !blank).then_some(v)
}

/// Reads the form; what is not a number is named by its campaign path.
fn campaign_of(form: &FormData) -> Result<CampaignInput, Vec<ValidationError>> {
    let mut errs = Vec::new();
    let ids = |name: &str, errs: &mut Vec<ValidationError>| -> Vec<i64> {
        form.all(name)
            .into_iter()
            .map(|s| {
                s.parse().unwrap_or_else(|_| {
                    errs.push(ValidationError::new(name.to_string(), "invalid_type"));
                    0
                })
            })
            .collect()
    };
    let segments = ids("segments", &mut errs);
    let exclude = ids("exclude", &mut errs);
    let mut int = |name: &str, default: i64| form.int(name, name, &mut errs).unwrap_or(default);
    let control_percent = int("control_percent", 0);
    let attribution_days = int("attribution_days", 14);
    let spread_hours = int("spread_hours", 0);
    let offer_id = form.get("offer_id").map(|_| int("offer_id", 0));
    let ab_sample = int("ab_sample", 20);
    let ab_hours = int("ab_hours", 4);
    let enrol_until = form.get("enrol_until").and_then(|d| {
        d.parse::<chrono::NaiveDate>()
            .map_err(|_| errs.push(ValidationError::new("enrol_until", "invalid_date")))
            .ok()
    });
    let channel = match form.get("channel").and_then(Channel::parse) {
        Some(c) => c,
        None => {
            errs.push(ValidationError::new("channel", "unknown_value"));
            Channel::Email
        }
    };
    if !errs.is_empty() {
        return Err(errs);
    }
    let variants: Vec<Variant> = ["a", "b"]
        .iter()
        .filter_map(|s| variant_of(form, s))
        .collect();
    let ab = form.checked("ab").then(|| AbTest {
        sample_percent: ab_sample,
        metric: match form.get("ab_metric") {
            Some("opens") => AbMetric::Opens,
            Some("conversions") => AbMetric::Conversions,
            _ => AbMetric::Clicks,
        },
        decide_after_hours: ab_hours,
    });
    Ok(CampaignInput {
        name: form.get("name").unwrap_or("").to_string(),
        channel,
        segments,
        exclude,
        control_percent,
        variants,
        ab,
        offer_id,
        attribution_days,
        spread_hours,
        track_opens: form.checked("track_opens"),
        enrol_until,
    })
}

fn preview_rows(ctx: &Ctx, p: &AudiencePreview) -> Vec<(String, i64)> {
    let mut rows = vec![
        (ctx.t("campaign.preview_total").to_string(), p.total),
        (ctx.t("campaign.preview_send").to_string(), p.send),
        (ctx.t("campaign.preview_control").to_string(), p.control),
        (ctx.t("campaign.preview_over_cap").to_string(), p.over_cap),
    ];
    for (reason, n) in &p.skipped {
        rows.push((
            format!(
                "{} · {}",
                ctx.t("campaign.skipped"),
                ctx.label("campaign_skip", reason)
            ),
            *n,
        ));
    }
    rows
}

struct PageState {
    current: Option<CampaignRecord>,
    v: HashMap<String, String>,
    errors: Vec<String>,
    flash: Option<String>,
    preview: Option<AudiencePreview>,
    /// How the first recipients would get it.
    recipients: Vec<uc::RecipientPreview>,
    figures: Option<CampaignFigures>,
    status: StatusCode,
}

async fn page(st: &AppState, user: &UiUser, p: PageState) -> Result<Response, UiError> {
    let campaigns = uc::list(&st.store, &user.actor)
        .await
        .map_err(page_err(user.locale))?;
    let segments = guanxi_app::care::plan_segments(&st.store, &user.actor)
        .await
        .unwrap_or_default();
    let offers = guanxi_app::rule::coupon_offers(&st.store, &user.actor)
        .await
        .unwrap_or_default();
    let ctx = user.ctx("campaign.title");
    let ids = |k: &str| -> Vec<i64> {
        p.v.get(k)
            .map(|s| s.split(',').filter_map(|x| x.parse().ok()).collect())
            .unwrap_or_default()
    };
    let f = p.figures.unwrap_or_default();
    let label_pairs = |vocab: &str, rows: &[(String, i64)]| -> Vec<(String, i64)> {
        rows.iter()
            .map(|(k, n)| (ctx.label(vocab, k), *n))
            .collect()
    };
    let tpl = CampaignsTpl {
        campaigns: campaigns
            .iter()
            .map(|k| CampaignView {
                id: k.id,
                name: k.campaign.name.clone(),
                channel: ctx.label("campaign_channel", k.campaign.channel.as_str()),
                state: ctx.label("campaign_state", k.state.as_str()),
                state_code: k.state.as_str(),
                sent: k.audience_total,
            })
            .collect(),
        current: p
            .current
            .as_ref()
            .map(|k| (k.id, k.version, k.state.as_str())),
        editable: p
            .current
            .as_ref()
            .is_none_or(|k| k.state == CampaignState::Draft),
        chosen: ids("segments_list"),
        excluded: ids("exclude_list"),
        v: p.v,
        errors: p.errors,
        flash: p.flash,
        preview: p
            .preview
            .as_ref()
            .map(|x| preview_rows(&ctx, x))
            .unwrap_or_default(),
        segments,
        offers,
        channels: Channel::ALL
            .iter()
            .map(|c| (c.as_str(), ctx.label("campaign_channel", c.as_str())))
            .collect(),
        metrics: ["clicks", "opens", "conversions"]
            .iter()
            .map(|m| (*m, ctx.label("campaign_metric", m)))
            .collect(),
        states: label_pairs("campaign_outbox", &f.states),
        responses: label_pairs("campaign_response", &f.responses),
        skipped: label_pairs("campaign_skip", &f.skipped),
        deferred: label_pairs("campaign_deferred", &f.deferred),
        variants: f
            .variants
            .iter()
            .map(|v| VariantRow {
                label: ctx.label("campaign_variant", &v.variant),
                recipients: v.recipients,
                opened: v.opened,
                clicked: v.clicked,
                converted: v.converted,
                revenue: format!("¥{}", format::plain_money(v.revenue_minor)),
            })
            .collect(),
        lift: f.lift_points.map(|l| format!("{l:+.2}")),
        recipients: p
            .recipients
            .iter()
            .map(|r| {
                (
                    r.name.clone(),
                    ctx.label("campaign_variant", &r.variant),
                    r.subject.clone(),
                    r.body.clone(),
                )
            })
            .collect(),
        chart: daily_chart(&ctx, &f),
        figures_note: match (&f.computed_at, &p.current) {
            (Some(at), _) => Some(ctx.tf(
                "campaign.figures_as_of",
                &[(
                    "time",
                    &format::datetime(*at, format::zone(st.utc_offset_hours)),
                )],
            )),
            (None, Some(k)) if k.audience_total >= uc::LIVE_FIGURES_LIMIT => {
                Some(ctx.t("campaign.figures_pending").to_string())
            }
            _ => None,
        },
        sent_by_day: f.sent_by_day.clone(),
        pause_reason: p
            .current
            .as_ref()
            .and_then(|k| k.pause_reason.as_ref())
            .map(|r| ctx.label("campaign_pause", r)),
        ctx,
    };
    let mut r = render(user.locale, &tpl);
    *r.status_mut() = p.status;
    Ok(r)
}

/// Messages sent per day with the day's opens, clicks and replies (ECharts options; empty
/// before anything was sent).
fn daily_chart(ctx: &Ctx, f: &CampaignFigures) -> String {
    if f.sent_by_day.is_empty() {
        return String::new();
    }
    let days: Vec<&String> = f.sent_by_day.iter().map(|d| &d.0).collect();
    let per_day = |kind: &str| -> Vec<i64> {
        days.iter()
            .map(|d| {
                f.responses_by_day
                    .iter()
                    .find(|r| &&r.0 == d && r.1 == kind)
                    .map_or(0, |r| r.2)
            })
            .collect()
    };
    let mut series = vec![serde_json::json!({
        "name": ctx.t("campaign.sent"), "type": "bar",
        "data": f.sent_by_day.iter().map(|d| d.1).collect::<Vec<_>>()})];
    for kind in ["opened", "clicked", "replied"] {
        series.push(serde_json::json!({
            "name": ctx.label("campaign_event", kind), "type": "line", "data": per_day(kind)}));
    }
    serde_json::json!({
        "tooltip": {"trigger": "axis"},
        "legend": {},
        "xAxis": {"type": "category", "data": days},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": series,
    })
    .to_string()
}

/// The form's values of a campaign, with its segment lists flattened for the checkboxes.
fn form_values(c: &CampaignInput) -> HashMap<String, String> {
    let mut v = values_of(c);
    let join = |l: &[i64]| l.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    v.insert("segments_list".into(), join(&c.segments));
    v.insert("exclude_list".into(), join(&c.exclude));
    v
}

/// The campaigns with the form for a new one.
pub async fn list(State(st): State<AppState>, user: UiUser) -> Result<Response, UiError> {
    user.require(Permission::ManageCampaigns)?;
    let mut v = HashMap::new();
    v.insert("channel".to_string(), "email".to_string());
    v.insert("attribution_days".to_string(), "14".to_string());
    v.insert("control_percent".to_string(), "10".to_string());
    v.insert("spread_hours".to_string(), "0".to_string());
    page(
        &st,
        &user,
        PageState {
            current: None,
            v,
            errors: vec![],
            flash: None,
            preview: None,
            recipients: vec![],
            figures: None,
            status: StatusCode::OK,
        },
    )
    .await
}

/// One campaign: its form (a draft) and its figures.
pub async fn show(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    user: UiUser,
) -> Result<Response, UiError> {
    user.require(Permission::ManageCampaigns)?;
    let (k, f) = uc::get(&st.store, &user.actor, id, st.utc_offset_hours)
        .await
        .map_err(page_err(user.locale))?;
    let (preview, recipients) = if k.state == CampaignState::Draft {
        (
            uc::preview(&st.store, &user.actor, Some(k.id), &k.campaign, st.as_of())
                .await
                .ok(),
            uc::recipient_previews(&st.store, &user.actor, &k.campaign, st.as_of(), 3)
                .await
                .unwrap_or_default(),
        )
    } else {
        (None, vec![])
    };
    page(
        &st,
        &user,
        PageState {
            v: form_values(&k.campaign),
            current: Some(k),
            errors: vec![],
            flash: None,
            preview,
            recipients,
            figures: Some(f),
            status: StatusCode::OK,
        },
    )
    .await
}

/// Saves the form (a new draft, or with `id` and `version` a change), or with the "preview"
/// button counts the audience.
pub async fn save(
    State(st): State<AppState>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::ManageCampaigns)?;
    let id = form.get("id").and_then(|i| i.parse::<i64>().ok());
    let version = form
        .get("version")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);
    let current = match id {
        Some(i) => Some(
            uc::get(&st.store, &user.actor, i, st.utc_offset_hours)
                .await
                .map_err(page_err(user.locale))?
                .0,
        ),
        None => None,
    };
    let mut v = form.values();
    v.insert("segments_list".into(), form.all("segments").join(","));
    v.insert("exclude_list".into(), form.all("exclude").join(","));
    let refused = |errors: Vec<String>, status: StatusCode| PageState {
        current: current.clone(),
        v: v.clone(),
        errors,
        flash: None,
        preview: None,
        recipients: vec![],
        figures: None,
        status,
    };
    let input = match campaign_of(&form) {
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
        return match uc::preview(&st.store, &user.actor, id, &input, st.as_of()).await {
            Ok(p) => {
                let mut s = refused(vec![], StatusCode::OK);
                s.preview = Some(p);
                s.recipients =
                    uc::recipient_previews(&st.store, &user.actor, &input, st.as_of(), 3)
                        .await
                        .unwrap_or_default();
                page(&st, &user, s).await
            }
            Err(e) => {
                let (status, errs) = form_refusal(user.locale, e)?;
                let errors = field_messages(user.locale, &errs);
                page(&st, &user, refused(errors, status)).await
            }
        };
    }
    match uc::save(&st.store, &user.actor, id.map(|i| (i, version)), &input).await {
        Ok(k) => Ok(Redirect::to(&format!("/campaigns/{}", k.id)).into_response()),
        Err(e) => {
            let (status, errs) = form_refusal(user.locale, e)?;
            let errors = field_messages(user.locale, &errs);
            page(&st, &user, refused(errors, status)).await
        }
    }
}

/// Launches (now or at a time), pauses, resumes or cancels a campaign.
pub async fn move_to(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::ManageCampaigns)?;
    let version = form.version(user.locale)?;
    let to = form
        .get("to")
        .and_then(CampaignState::parse)
        .ok_or(UiError::BadForm(user.locale))?;
    let tz = format::zone(st.utc_offset_hours);
    let send_at = form
        .get("send_at")
        .and_then(|s| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").ok())
        .and_then(|t| t.and_local_timezone(tz).single())
        .map(|t| t.with_timezone(&chrono::Utc));
    match uc::move_to(&st.store, &user.actor, id, version, to, send_at).await {
        Ok(_) => Ok(Redirect::to(&format!("/campaigns/{id}")).into_response()),
        Err(e) => {
            let (status, errs) = form_refusal(user.locale, e)?;
            let errors = field_messages(user.locale, &errs);
            let (k, f) = uc::get(&st.store, &user.actor, id, st.utc_offset_hours)
                .await
                .map_err(page_err(user.locale))?;
            page(
                &st,
                &user,
                PageState {
                    v: form_values(&k.campaign),
                    current: Some(k),
                    errors,
                    flash: None,
                    preview: None,
                    recipients: vec![],
                    figures: Some(f),
                    status,
                },
            )
            .await
        }
    }
}

/// Sends the first variant to the marketer's own address.
pub async fn test_send(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::ManageCampaigns)?;
    let address = form.get("address").unwrap_or("").to_string();
    let r = uc::test_send(
        &st.store,
        &user.actor,
        st.jobs.delivery().as_ref(),
        id,
        &address,
    )
    .await;
    let (k, f) = uc::get(&st.store, &user.actor, id, st.utc_offset_hours)
        .await
        .map_err(page_err(user.locale))?;
    let ctx = user.ctx("campaign.title");
    let (errors, flash, status) = match r {
        Ok(_) => (
            vec![],
            Some(ctx.t("campaign.test_sent").to_string()),
            StatusCode::OK,
        ),
        Err(e) => {
            let (status, errs) = form_refusal(user.locale, e)?;
            let errors = field_messages(user.locale, &errs);
            (errors, None, status)
        }
    };
    page(
        &st,
        &user,
        PageState {
            v: form_values(&k.campaign),
            current: Some(k),
            errors,
            flash,
            preview: None,
            recipients: vec![],
            figures: Some(f),
            status,
        },
    )
    .await
}

/// The 360 page's contact limits: the customer's own caps per channel (they asked for fewer
/// messages) and, for who may change them, the form.
pub struct CapsSection {
    /// (channel code, channel label, "at most 1 in 30 days").
    pub caps: Vec<(&'static str, String, String)>,
    /// The channels a cap can be set on: (code, label).
    pub channels: Vec<(&'static str, String)>,
    /// May set and remove caps.
    pub can_edit: bool,
}

/// Loads the 360 page's contact limits.
pub async fn caps_section(
    st: &AppState,
    user: &UiUser,
    ctx: &Ctx,
    id: i64,
) -> Result<CapsSection, UiError> {
    let caps = uc::customer_caps(&st.store, &user.actor, id)
        .await
        .map_err(page_err(user.locale))?;
    Ok(CapsSection {
        caps: caps
            .into_iter()
            .map(|(c, n, d)| {
                (
                    c.as_str(),
                    ctx.label("campaign_channel", c.as_str()),
                    ctx.tf(
                        "campaign.cap_text",
                        &[("n", &n.to_string()), ("days", &d.to_string())],
                    ),
                )
            })
            .collect(),
        channels: Channel::ALL
            .iter()
            .map(|c| (c.as_str(), ctx.label("campaign_channel", c.as_str())))
            .collect(),
        can_edit: user.actor.can(Permission::WriteCustomers)
            || user.actor.can(Permission::ManageCampaigns),
    })
}

/// Sets or (with `remove`) removes a customer's own cap on a channel, from the 360 page.
pub async fn set_cap(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    let channel = form
        .get("channel")
        .and_then(Channel::parse)
        .ok_or(UiError::BadForm(user.locale))?;
    let cap = if form.get("remove").is_some() {
        None
    } else {
        let num = |k: &str| form.get(k).and_then(|v| v.trim().parse::<i64>().ok());
        // Not a number: out of range, refused by the use case like any other bad value.
        Some((num("cap_count").unwrap_or(0), num("cap_days").unwrap_or(0)))
    };
    match uc::set_customer_cap(&st.store, &user.actor, id, channel, cap).await {
        Ok(()) => Ok(
            Redirect::to(&format!("/customers/{id}?saved=contact_cap#contact-caps"))
                .into_response(),
        ),
        Err(e) => {
            form_refusal(user.locale, e)?;
            Ok(Redirect::to(&format!(
                "/customers/{id}?saved=contact_cap_invalid#contact-caps"
            ))
            .into_response())
        }
    }
}

/// Downloads a direct-mail campaign's mailing list.
pub async fn mailing_list(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    user: UiUser,
) -> Result<Response, UiError> {
    let d = guanxi_app::export::mailing_list(&st.store, &user.actor, user.locale, id)
        .await
        .map_err(page_err(user.locale))?;
    Ok(crate::download::file(d))
}
