//! The managers' survey pages: the surveys with the form for a new one, and one survey's
//! figures (response rate, CSAT, NPS or SERVQUAL gaps, by month and by agent) with the form
//! that makes a personal link for a customer.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Duration, Utc};
use guanxi_domain::role::Permission;
use guanxi_domain::survey::{Question, QuestionKind, SurveyInput, SurveyKind, SurveyTrigger};
use guanxi_domain::ValidationError;
use guanxi_store::survey::{Breakdown, GroupFigures, SurveyRecord, SurveyResults};

use guanxi_app::survey as uc;

use crate::features::customers::list::user_names;
use crate::state::AppState;
use crate::ui::render;
use crate::ui::session::{
    field_messages, form_refusal, page_err, Ctx, FormData, Submitted, UiError, UiUser,
};

/// Days of figures a survey page shows.
const PERIOD_DAYS: i64 = 365;

#[derive(Template)]
#[template(path = "survey/list.html")]
struct ListTpl {
    ctx: Ctx,
    surveys: Vec<SurveyRecord>,
    kinds: Vec<(&'static str, String)>,
    question_kinds: Vec<(&'static str, String)>,
    question_rows: Vec<usize>,
    errors: Vec<String>,
    v: HashMap<String, String>,
}

impl ListTpl {
    fn val(&self, k: &str) -> &str {
        self.v.get(k).map(String::as_str).unwrap_or("")
    }
    fn row(&self, prefix: &str, i: &usize) -> &str {
        self.val(&format!("q_{prefix}_{i}"))
    }
}

/// One row of figures as the page shows it.
struct FigureRow {
    label: String,
    invited: i64,
    responded: i64,
    main: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "survey/show.html")]
struct ShowTpl {
    ctx: Ctx,
    s: SurveyRecord,
    kind: String,
    overall: FigureRow,
    rate: String,
    months: Vec<FigureRow>,
    agents: Vec<FigureRow>,
    segments: Vec<FigureRow>,
    dimensions: Vec<(String, String, String, String)>,
    link: String,
    link_note: &'static str,
    /// Segments it can be sent to: (id, name).
    segment_menu: Vec<(String, String)>,
    /// How it goes out: its trigger, explained.
    sending: String,
}

fn one(v: f64) -> String {
    format!("{v:.1}")
}

fn row(ctx: &Ctx, label: String, g: &GroupFigures) -> FigureRow {
    let (main, detail) = if let Some(n) = &g.nps {
        (
            one(n.score),
            ctx.tf(
                "survey.nps_detail",
                &[
                    ("p", &n.promoters.to_string()),
                    ("m", &n.passives.to_string()),
                    ("d", &n.detractors.to_string()),
                ],
            ),
        )
    } else if let Some(c) = &g.csat {
        (
            format!("{}%", one(c.percent)),
            ctx.tf("survey.csat_detail", &[("mean", &format!("{:.2}", c.mean))]),
        )
    } else if let Some(gap) = g.servqual_gap {
        (format!("{gap:+.2}"), String::new())
    } else {
        ("—".into(), String::new())
    };
    FigureRow {
        label,
        invited: g.invited,
        responded: g.responded,
        main,
        detail,
    }
}

fn list_tpl(
    user: &UiUser,
    surveys: Vec<SurveyRecord>,
    errors: Vec<String>,
    v: HashMap<String, String>,
) -> ListTpl {
    let ctx = user.ctx("survey.title");
    ListTpl {
        kinds: [
            SurveyKind::Nps,
            SurveyKind::Csat,
            SurveyKind::Servqual,
            SurveyKind::Custom,
        ]
        .iter()
        .map(|k| (k.as_str(), ctx.label("survey_kind", k.as_str())))
        .collect(),
        question_kinds: ["rating", "choice", "text"]
            .iter()
            .map(|k| (*k, ctx.label("question_kind", k)))
            .collect(),
        question_rows: (0..QUESTION_ROWS).collect(),
        surveys,
        errors,
        v,
        ctx,
    }
}

/// Question rows the form offers for a custom survey.
const QUESTION_ROWS: usize = 8;

/// A custom survey's questions from the form's rows (blank rows skipped); a rating's bounds
/// that are not numbers are named by the question's path.
fn questions_of(form: &FormData) -> Result<Vec<Question>, Vec<ValidationError>> {
    let mut out = Vec::new();
    let mut errs = Vec::new();
    for i in 0..QUESTION_ROWS {
        let get = |f: &str| form.get(&format!("q_{f}_{i}")).unwrap_or("").to_string();
        let (zh, en) = (get("zh"), get("en"));
        if zh.is_empty() && en.is_empty() {
            continue;
        }
        let n = out.len();
        let bound = |f: &str, default: u8, errs: &mut Vec<ValidationError>| -> u8 {
            match form.get(&format!("q_{f}_{i}")) {
                None => default,
                Some(x) => x.parse().unwrap_or_else(|_| {
                    errs.push(ValidationError::new(
                        format!("questions[{n}].kind.{f}"),
                        "invalid_type",
                    ));
                    default
                }),
            }
        };
        let kind = match form.get(&format!("q_kind_{i}")).unwrap_or("rating") {
            "choice" => QuestionKind::Choice {
                options: get("options")
                    .split(['\n', ',', '，', '、', ';', '；'])
                    .map(str::trim)
                    .filter(|o| !o.is_empty())
                    .map(str::to_string)
                    .collect(),
            },
            "text" => QuestionKind::Text,
            _ => QuestionKind::Rating {
                min: bound("min", 1, &mut errs),
                max: bound("max", 5, &mut errs),
                servqual: None,
            },
        };
        let key = match get("key") {
            k if k.is_empty() => format!("q{}", n + 1),
            k => k,
        };
        out.push(Question {
            key,
            text_zh: zh,
            text_en: en,
            kind,
            required: form.get(&format!("q_required_{i}")).is_some(),
        });
    }
    if errs.is_empty() {
        Ok(out)
    } else {
        Err(errs)
    }
}

/// The surveys and the form for a new one.
pub async fn list(State(st): State<AppState>, user: UiUser) -> Result<Response, UiError> {
    user.require(Permission::ManageCare)?;
    let surveys = uc::list_surveys(&st.store, &user.actor)
        .await
        .map_err(page_err(user.locale))?;
    let mut v = HashMap::new();
    v.insert("expires_days".to_string(), "14".to_string());
    Ok(render(
        user.locale,
        &list_tpl(&user, surveys, Vec::new(), v),
    ))
}

/// Saves a new survey, sent by hand: the standard questions of its kind, or a custom
/// survey's own questions from the form's rows.
pub async fn create(
    State(st): State<AppState>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::ManageCare)?;
    let kind = SurveyKind::parse(form.get("kind").unwrap_or("")).unwrap_or(SurveyKind::Nps);
    let questions = if kind == SurveyKind::Custom {
        match questions_of(&form) {
            Ok(q) => q,
            Err(errs) => {
                let errors = field_messages(user.locale, &errs);
                let surveys = uc::list_surveys(&st.store, &user.actor)
                    .await
                    .map_err(page_err(user.locale))?;
                let mut r = render(
                    user.locale,
                    &list_tpl(&user, surveys, errors, form.values()),
                );
                *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                return Ok(r);
            }
        }
    } else {
        Vec::new()
    };
    let input = SurveyInput {
        name: form.get("name").unwrap_or("").to_string(),
        kind,
        questions,
        trigger: SurveyTrigger::Manual,
        expires_days: form
            .get("expires_days")
            .and_then(|d| d.parse().ok())
            .unwrap_or(14),
        active: true,
    };
    match uc::create_survey(&st.store, &user.actor, &input).await {
        Ok(s) => Ok(Redirect::to(&format!("/surveys/{}", s.id)).into_response()),
        Err(e) => {
            let (status, errs) = form_refusal(user.locale, e)?;
            let errors = field_messages(user.locale, &errs);
            let surveys = uc::list_surveys(&st.store, &user.actor)
                .await
                .map_err(page_err(user.locale))?;
            let mut r = render(
                user.locale,
                &list_tpl(&user, surveys, errors, form.values()),
            );
            *r.status_mut() = status;
            Ok(r)
        }
    }
}

async fn show_page(
    st: &AppState,
    user: &UiUser,
    id: i64,
    link: String,
    link_note: &'static str,
) -> Result<Response, UiError> {
    let to = Utc::now() + Duration::minutes(1);
    let from = to - Duration::days(PERIOD_DAYS);
    let by_month: SurveyResults = uc::results(
        &st.store,
        &user.actor,
        id,
        from,
        to,
        Some(Breakdown::Month),
        st.utc_offset_hours,
    )
    .await
    .map_err(page_err(user.locale))?;
    let by_agent = uc::results(
        &st.store,
        &user.actor,
        id,
        from,
        to,
        Some(Breakdown::Agent),
        st.utc_offset_hours,
    )
    .await
    .map_err(page_err(user.locale))?;
    let by_segment = uc::results(
        &st.store,
        &user.actor,
        id,
        from,
        to,
        Some(Breakdown::Segment),
        st.utc_offset_hours,
    )
    .await
    .map_err(page_err(user.locale))?;
    let segment_names: HashMap<String, String> =
        guanxi_app::care::plan_segments(&st.store, &user.actor)
            .await
            .map_err(page_err(user.locale))?
            .into_iter()
            .map(|(id, name)| (id.to_string(), name))
            .collect();
    let names: HashMap<i64, String> = user_names(st, user).await?.into_iter().collect();
    let ctx = user.ctx("survey.title");
    let dimensions = by_month
        .servqual
        .as_ref()
        .map(|q| {
            q.dimensions
                .iter()
                .map(|d| {
                    (
                        ctx.label("survey_dimension", d.dimension.as_str()),
                        format!("{:.2}", d.expectation),
                        format!("{:.2}", d.perception),
                        format!("{:+.2}", d.gap),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let tpl = ShowTpl {
        kind: ctx.label("survey_kind", by_month.survey.definition.kind.as_str()),
        overall: row(&ctx, String::new(), &by_month.all),
        rate: by_month
            .response_rate
            .map(|r| format!("{}%", one(r)))
            .unwrap_or_else(|| "—".into()),
        months: by_month
            .groups
            .iter()
            .map(|g| row(&ctx, g.key.clone(), g))
            .collect(),
        agents: by_agent
            .groups
            .iter()
            .filter(|g| !g.key.is_empty())
            .map(|g| {
                let label = g
                    .key
                    .parse::<i64>()
                    .ok()
                    .and_then(|a| names.get(&a).cloned())
                    .unwrap_or_else(|| g.key.clone());
                row(&ctx, label, g)
            })
            .collect(),
        segments: by_segment
            .groups
            .iter()
            .map(|g| {
                let label = segment_names
                    .get(&g.key)
                    .cloned()
                    .unwrap_or_else(|| g.key.clone());
                row(&ctx, label, g)
            })
            .collect(),
        dimensions,
        segment_menu: {
            let mut m: Vec<(String, String)> = segment_names.into_iter().collect();
            m.sort_by(|a, b| a.1.cmp(&b.1));
            m
        },
        sending: ctx
            .t(&format!(
                "survey.sending_{}",
                by_month.survey.trigger.as_str()
            ))
            .to_string(),
        s: by_month.survey,
        link,
        link_note,
        ctx,
    };
    Ok(render(user.locale, &tpl))
}

/// One survey's figures over the last year.
pub async fn show(
    State(st): State<AppState>,
    user: UiUser,
    Path(id): Path<i64>,
    q: FormData,
) -> Result<Response, UiError> {
    user.require(Permission::ManageCare)?;
    let note = if q.get("sent").is_some() {
        "survey.send_started"
    } else {
        ""
    };
    show_page(&st, &user, id, String::new(), note).await
}

/// Sends the survey to a segment (in the background), then shows the survey again.
pub async fn send_to_segment(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::ManageCare)?;
    let segment = form
        .get("segment_id")
        .and_then(|c| c.parse::<i64>().ok())
        .unwrap_or(0);
    guanxi_app::survey::send::send_to_segment(&st.store, &user.actor, id, segment)
        .await
        .map_err(page_err(user.locale))?;
    st.jobs.wake();
    Ok(axum::response::Redirect::to(&format!("/surveys/{id}?sent=1#send-form")).into_response())
}

/// Makes a personal link for a customer and shows it once, to send through the manager's own
/// channel (WeChat, SMS, e-mail).
pub async fn make_link(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::ManageCare)?;
    let customer = form
        .get("customer_id")
        .and_then(|c| c.parse::<i64>().ok())
        .unwrap_or(0);
    let locale = form.get("locale").unwrap_or("zh-CN").to_string();
    let made = uc::make_link(&st.store, &user.actor, id, customer, &locale)
        .await
        .map_err(page_err(user.locale))?;
    match made {
        uc::Link::Made(token) => show_page(&st, &user, id, format!("/s/{token}"), "").await,
        uc::Link::Fatigued => show_page(&st, &user, id, String::new(), "survey.fatigued").await,
    }
}
