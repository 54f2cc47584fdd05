//! `/notifications`: the signed-in user's notifications, newest first, each opening its
//! customer (and marking it read), with "mark all read"; and the bell's figure, which the
//! header loads by itself so no page waits for it.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Redirect, Response};
use guanxi_app::notification as uc;

use crate::state::AppState;
use crate::ui::format;
use crate::ui::render;
use crate::ui::session::{page_err, Ctx, FormData, Submitted, UiError, UiUser};

/// Notifications one page lists.
const PAGE: i64 = 50;

struct Item {
    id: i64,
    customer_id: Option<i64>,
    customer: String,
    message: String,
    at: String,
    unread: bool,
}

#[derive(Template)]
#[template(path = "notification/list.html")]
struct ListTpl {
    ctx: Ctx,
    items: Vec<Item>,
    unread: i64,
    unread_only: bool,
    next_before: Option<i64>,
    back: String,
}

#[derive(Template)]
#[template(path = "notification/badge.html")]
struct BadgeTpl {
    ctx: Ctx,
    unread: i64,
}

/// The list (`?unread=1` for the unread only, `?before=<id>` for older ones).
pub async fn list(
    State(st): State<AppState>,
    user: UiUser,
    q: FormData,
) -> Result<Response, UiError> {
    let l = user.locale;
    let mut errs = Vec::new();
    let before = q.int("before", "before", &mut errs);
    if !errs.is_empty() {
        return Err(UiError::Invalid(
            l,
            axum::http::StatusCode::BAD_REQUEST,
            vec![format!(
                "before: {}",
                crate::i18n::message(l, "invalid_type")
            )],
        ));
    }
    let unread_only = q.get("unread").is_some();
    let page = uc::my_notifications(
        &st.store,
        &user.actor,
        uc::NotificationQuery {
            unread_only,
            before,
            limit: PAGE,
        },
    )
    .await
    .map_err(page_err(l))?;
    let tz = format::zone(st.utc_offset_hours);
    let tpl = ListTpl {
        ctx: user.ctx("notification.title"),
        items: page
            .items
            .into_iter()
            .map(|n| Item {
                id: n.id,
                customer_id: n.customer_id,
                customer: n.customer_name.unwrap_or_default(),
                message: n.message,
                at: format::datetime(n.created_at, tz),
                unread: n.read_at.is_none(),
            })
            .collect(),
        unread: page.unread,
        unread_only,
        next_before: page.next_before,
        back: user.path.clone(),
    };
    Ok(render(l, &tpl))
}

/// The bell with the unread figure (an htmx fragment the header loads and refreshes).
pub async fn badge(State(st): State<AppState>, user: UiUser) -> Result<Response, UiError> {
    let unread = uc::unread_count(&st.store, &user.actor)
        .await
        .map_err(page_err(user.locale))?;
    Ok(render(
        user.locale,
        &BadgeTpl {
            ctx: user.ctx("notification.title"),
            unread,
        },
    ))
}

/// Marks one read and goes on to `next` (its customer, or back to the list).
pub async fn read(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Redirect, UiError> {
    uc::mark_read(&st.store, &user.actor, id)
        .await
        .map_err(page_err(user.locale))?;
    Ok(Redirect::to(&next_of(&form)))
}

/// Marks all read and goes back to the list.
pub async fn read_all(
    State(st): State<AppState>,
    Submitted { user, form }: Submitted,
) -> Result<Redirect, UiError> {
    uc::mark_all_read(&st.store, &user.actor)
        .await
        .map_err(page_err(user.locale))?;
    Ok(Redirect::to(&next_of(&form)))
}

/// Where a form goes next: a same-site path it names, else the list.
fn next_of(form: &FormData) -> String {
    match form.get("next") {
        Some(n) => crate::ui::pages::safe_next(Some(n)),
        None => "/notifications".into(),
    }
}
