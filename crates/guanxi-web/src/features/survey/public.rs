//! The page a personal survey link opens. Whoever holds the link may answer, once, without
//! signing in: the token in the address is the secret (256 bits; a forged cross-site post
//! would need it), so the form carries no other CSRF token. The page speaks the language the
//! invitation was sent in, fits a phone, and says plainly when the link was used or expired.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use guanxi_domain::survey::{QuestionKind, SurveyKind};
use guanxi_store::survey::LinkState;
use guanxi_text::i18n::{message, Locale};

use guanxi_app::survey as uc;

use crate::state::AppState;
use crate::ui::render;
use crate::ui::session::{Ctx, FormData, UiError};

/// A question as the public page shows it.
struct QuestionView {
    key: String,
    text: String,
    required: bool,
    /// Rating choices (empty unless a rating).
    scale: Vec<u8>,
    /// Choice options (empty unless a choice).
    options: Vec<String>,
    low: &'static str,
    high: &'static str,
    given: String,
}

#[derive(Template)]
#[template(path = "survey/public.html")]
struct PublicTpl {
    ctx: Ctx,
    token: String,
    title: String,
    state: &'static str,
    questions: Vec<QuestionView>,
    errors: Vec<String>,
}

fn locale_of(code: &str) -> Locale {
    Locale::from_code(code).unwrap_or(Locale::ZhCn)
}

async fn page(
    st: &AppState,
    token: &str,
    given: &BTreeMap<String, String>,
    errors: Vec<String>,
    state_override: Option<&'static str>,
) -> Result<(Locale, PublicTpl), UiError> {
    let link = uc::open_link(&st.store, token)
        .await
        .map_err(|e| UiError::from_api(Locale::ZhCn, e.into()))?;
    let locale = locale_of(&link.locale);
    let ctx = Ctx::anonymous(locale, "survey.public_title");
    let zh = ctx.is_zh();
    let kind = link.survey.definition.kind;
    let questions = link
        .survey
        .definition
        .questions
        .iter()
        .map(|q| {
            let (scale, options) = match &q.kind {
                QuestionKind::Rating { min, max, .. } => ((*min..=*max).collect(), Vec::new()),
                QuestionKind::Choice { options } => (Vec::new(), options.clone()),
                QuestionKind::Text => (Vec::new(), Vec::new()),
            };
            let (low, high) = match (kind, &q.kind) {
                (SurveyKind::Nps, QuestionKind::Rating { .. }) => {
                    ("survey.nps_low", "survey.nps_high")
                }
                (SurveyKind::Servqual, QuestionKind::Rating { .. }) => {
                    ("survey.agree_low", "survey.agree_high")
                }
                (_, QuestionKind::Rating { .. }) => ("survey.csat_low", "survey.csat_high"),
                _ => ("", ""),
            };
            QuestionView {
                key: q.key.clone(),
                text: if zh {
                    q.text_zh.clone()
                } else {
                    q.text_en.clone()
                },
                required: q.required,
                scale,
                options,
                low: if low.is_empty() { "" } else { ctx.t(low) },
                high: if high.is_empty() { "" } else { ctx.t(high) },
                given: given.get(&q.key).cloned().unwrap_or_default(),
            }
        })
        .collect();
    let state = state_override.unwrap_or(match link.state {
        LinkState::Open => "open",
        LinkState::Answered => "answered",
        LinkState::Expired => "expired",
    });
    Ok((
        locale,
        PublicTpl {
            token: token.to_string(),
            title: link.survey.name.clone(),
            state,
            questions,
            errors,
            ctx,
        },
    ))
}

/// The survey a link opens (or why it cannot be answered).
pub async fn show(
    State(st): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, UiError> {
    let (locale, tpl) = page(&st, &token, &BTreeMap::new(), Vec::new(), None).await?;
    Ok(render(locale, &tpl))
}

/// Sends the answers: thanks, the form again with what is missing, or "already answered".
pub async fn submit(
    State(st): State<AppState>,
    Path(token): Path<String>,
    form: FormData,
) -> Result<Response, UiError> {
    let raw: BTreeMap<String, String> = form
        .values()
        .into_iter()
        .filter_map(|(k, v)| k.strip_prefix("a.").map(|k| (k.to_string(), v)))
        .collect();
    match uc::answer(&st.store, &token, &raw).await {
        Ok(_) => {
            let (locale, tpl) = page(&st, &token, &raw, Vec::new(), Some("thanks")).await?;
            Ok(render(locale, &tpl))
        }
        Err(guanxi_app::AppError::Invalid(e))
        | Err(guanxi_app::AppError::Store(guanxi_store::StoreError::Invalid(e))) => {
            let (locale, tpl) = page(&st, &token, &raw, Vec::new(), None).await?;
            // A used or expired link shows its state; anything else is a field to fix.
            if tpl.state != "open" {
                let mut r = render(locale, &tpl);
                *r.status_mut() = StatusCode::CONFLICT;
                return Ok(r);
            }
            let labels: BTreeMap<&str, &str> = tpl
                .questions
                .iter()
                .map(|q| (q.key.as_str(), q.text.as_str()))
                .collect();
            let errors =
                e.0.iter()
                    .map(|x| {
                        let key = x.field.strip_prefix("answers.").unwrap_or(&x.field);
                        let what = labels.get(key).copied().unwrap_or(key);
                        format!("{what}: {}", message(locale, &x.code))
                    })
                    .collect();
            let tpl = PublicTpl { errors, ..tpl };
            let mut r = render(locale, &tpl);
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(e) => Err(UiError::from_api(Locale::ZhCn, e.into())),
    }
}
