//! The knowledge-base pages: search (from the menu or from a ticket, with "this answered it"),
//! an article with its votes, and the editor's form.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use guanxi_domain::knowledge::{Article, ArticleHit, ArticleInput, ArticleStatus};
use guanxi_domain::role::Permission;
use guanxi_domain::ValidationError;
use guanxi_text::i18n::message;

use guanxi_app::knowledge as uc;

use crate::state::AppState;
use crate::ui::render;
use crate::ui::session::{
    api_errors, field_messages, page_err, Ctx, FormData, Submitted, UiError, UiUser,
};

#[derive(Template)]
#[template(path = "knowledge/list.html")]
struct ListTpl {
    ctx: Ctx,
    q: String,
    ticket: i64,
    hits: Vec<ArticleHit>,
    editor: bool,
}

#[derive(Template)]
#[template(path = "knowledge/show.html")]
struct ShowTpl {
    ctx: Ctx,
    a: Article,
    title: String,
    body: String,
    other_title: String,
    other_body: String,
    editor: bool,
    flash: &'static str,
}

#[derive(Template)]
#[template(path = "knowledge/edit.html")]
struct EditTpl {
    ctx: Ctx,
    id: i64,
    v: HashMap<String, String>,
    errors: Vec<String>,
    can_publish: bool,
}

impl EditTpl {
    fn val(&self, k: &str) -> &str {
        self.v.get(k).map(String::as_str).unwrap_or("")
    }
}

/// Search (`?q=&ticket=`): from a ticket, each hit can be linked as the answer.
pub async fn list(
    State(st): State<AppState>,
    user: UiUser,
    q: FormData,
) -> Result<Response, UiError> {
    user.require(Permission::ReadTickets)?;
    let ctx = user.ctx("kb.title");
    let words = q.get("q").unwrap_or("").to_string();
    let hits = uc::search(&st.store, &user.actor, &words, ctx.is_zh(), 30)
        .await
        .map_err(page_err(user.locale))?;
    let tpl = ListTpl {
        q: words,
        ticket: q.get("ticket").and_then(|t| t.parse().ok()).unwrap_or(0),
        hits,
        editor: uc::is_editor(&user.actor),
        ctx,
    };
    Ok(render(user.locale, &tpl))
}

/// An article in the reader's language, the other one below.
pub async fn show(
    State(st): State<AppState>,
    user: UiUser,
    Path(id): Path<i64>,
    q: FormData,
) -> Result<Response, UiError> {
    user.require(Permission::ReadTickets)?;
    let a = uc::read(&st.store, &user.actor, id)
        .await
        .map_err(page_err(user.locale))?;
    let ctx = user.ctx("kb.title");
    let zh = (a.title_zh.clone(), a.body_zh.clone());
    let en = (a.title_en.clone(), a.body_en.clone());
    let (first, second) = if ctx.is_zh() && zh.0.is_some() || en.0.is_none() {
        (zh, en)
    } else {
        (en, zh)
    };
    let tpl = ShowTpl {
        title: first.0.unwrap_or_default(),
        body: first.1.unwrap_or_default(),
        other_title: second.0.unwrap_or_default(),
        other_body: second.1.unwrap_or_default(),
        editor: uc::is_editor(&user.actor),
        flash: if q.get("voted").is_some() {
            "kb.thanks"
        } else {
            ""
        },
        a,
        ctx,
    };
    Ok(render(user.locale, &tpl))
}

fn input_of(form: &FormData) -> Result<ArticleInput, Vec<ValidationError>> {
    let status = match form.get("status") {
        None => None,
        Some(s) => {
            Some(ArticleStatus::parse(s).map_err(|c| vec![ValidationError::new("status", c)])?)
        }
    };
    let category_id = match form.get("category_id") {
        None => None,
        Some(c) => Some(
            c.parse::<i64>()
                .map_err(|_| vec![ValidationError::new("category_id", "invalid_type")])?,
        ),
    };
    let version = match form.get("version") {
        None => None,
        Some(v) => Some(
            v.parse::<i64>()
                .map_err(|_| vec![ValidationError::new("version", "invalid_type")])?,
        ),
    };
    Ok(ArticleInput {
        title_zh: form.get("title_zh").map(String::from),
        body_zh: form.raw("body_zh").map(String::from),
        title_en: form.get("title_en").map(String::from),
        body_en: form.raw("body_en").map(String::from),
        category_id,
        tags: form
            .get("tags")
            .unwrap_or("")
            .split([',', '，'])
            .map(String::from)
            .collect(),
        status,
        version,
    })
}

fn edit_page(
    user: &UiUser,
    id: i64,
    v: HashMap<String, String>,
    errs: &[ValidationError],
    status: StatusCode,
) -> Response {
    let errors = field_messages(user.locale, errs);
    let mut r = render(
        user.locale,
        &EditTpl {
            ctx: user.ctx("kb.edit"),
            id,
            v,
            errors,
            can_publish: user.actor.can(Permission::ManageServiceDesk),
        },
    );
    *r.status_mut() = status;
    r
}

/// The form for a new article.
pub async fn new_form(user: UiUser) -> Result<Response, UiError> {
    user.require(Permission::WorkTickets)?;
    let mut v = HashMap::new();
    v.insert("status".into(), "draft".into());
    Ok(edit_page(&user, 0, v, &[], StatusCode::OK))
}

/// The form for an existing article.
pub async fn edit_form(
    State(st): State<AppState>,
    user: UiUser,
    Path(id): Path<i64>,
) -> Result<Response, UiError> {
    user.require(Permission::WorkTickets)?;
    let a = uc::load_for_edit(&st.store, &user.actor, id)
        .await
        .map_err(page_err(user.locale))?;
    let mut v = HashMap::new();
    for (k, val) in [
        ("title_zh", a.title_zh.clone()),
        ("body_zh", a.body_zh.clone()),
        ("title_en", a.title_en.clone()),
        ("body_en", a.body_en.clone()),
        ("category_id", a.category_id.map(|c| c.to_string())),
        ("tags", Some(a.tags.join(", "))),
        ("status", Some(a.status.as_str().to_string())),
        ("version", Some(a.meta.version.to_string())),
    ] {
        v.insert(k.to_string(), val.unwrap_or_default());
    }
    Ok(edit_page(&user, id, v, &[], StatusCode::OK))
}

async fn save(
    st: &AppState,
    user: &UiUser,
    id: Option<i64>,
    form: &FormData,
) -> Result<Response, UiError> {
    user.require(Permission::WorkTickets)?;
    let result = match input_of(form) {
        Ok(a) => match id {
            None => uc::create(&st.store, &user.actor, a).await,
            Some(id) => uc::update(&st.store, &user.actor, id, a).await,
        }
        .map_err(|e| api_errors(e.into())),
        Err(errs) => Err(Some(errs)),
    };
    match result {
        Ok(a) => Ok(Redirect::to(&format!("/kb/{}", a.id)).into_response()),
        Err(Some(errs)) => {
            let status = if errs.iter().any(|e| e.code == "conflict") {
                StatusCode::CONFLICT
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            Ok(edit_page(
                user,
                id.unwrap_or(0),
                form.values(),
                &errs,
                status,
            ))
        }
        Err(None) => Err(UiError::Forbidden(user.locale)),
    }
}

/// Creates an article from the form.
pub async fn create(
    State(st): State<AppState>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    save(&st, &user, None, &form).await
}

/// Saves the edit form.
pub async fn update(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    save(&st, &user, Some(id), &form).await
}

/// Helpful or not, then back to the article.
pub async fn vote(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::ReadTickets)?;
    let helpful = form.get("helpful") == Some("1");
    uc::vote(&st.store, &user.actor, id, helpful)
        .await
        .map_err(page_err(user.locale))?;
    Ok(Redirect::to(&format!("/kb/{id}?voted=1")).into_response())
}

/// "This answered it", then back to the ticket.
pub async fn link(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::WorkTickets)?;
    let Some(ticket) = form.get("ticket_id").and_then(|t| t.parse::<i64>().ok()) else {
        return Err(UiError::Invalid(
            user.locale,
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![format!("ticket_id: {}", message(user.locale, "required"))],
        ));
    };
    uc::link(&st.store, &user.actor, ticket, id)
        .await
        .map_err(page_err(user.locale))?;
    Ok(Redirect::to(&format!("/tickets/{ticket}")).into_response())
}
