//! Identifying a customer from the search box: hits as you type (an htmx fragment), and Enter.
//! Enter opens the best match only when it is the best: namesakes that score alike (two 张强)
//! get a page of choices, because opening one of them at random is how the wrong customer gets
//! the call. A number nobody has is an unknown caller, offered as a new customer with it.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use guanxi_domain::contact::{display_phone, normalize_phone, phone_digits};
use guanxi_domain::records::IdentifyHit;
use guanxi_domain::role::Permission;

use crate::state::AppState;
use crate::ui::render;
use crate::ui::session::{urlencode, Ctx, FormData, UiError, UiUser};
use crate::ui::text;

/// Hits shown as you type.
const AS_YOU_TYPE: i64 = 8;
/// Most choices Enter offers when the best matches tie.
const CHOICES: i64 = 20;

/// One hit as the results show it.
pub struct HitView {
    id: i64,
    name: String,
    detail: String,
    matched: &'static str,
}

#[derive(Template)]
#[template(path = "customers/search_results.html")]
struct HitsTpl {
    ctx: Ctx,
    query_empty: bool,
    hits: Vec<HitView>,
    new_with: String,
}

#[derive(Template)]
#[template(path = "customers/search_choices.html")]
struct ChoicesTpl {
    ctx: Ctx,
    query: String,
    hits: Vec<HitView>,
    new_with: String,
    /// The same number as a new lead (an unknown caller who is not a customer yet).
    new_lead_with: String,
    list_url: String,
}

fn views(ctx: &Ctx, hits: Vec<IdentifyHit>) -> Vec<HitView> {
    hits.into_iter()
        .map(|h| HitView {
            id: h.customer_id,
            detail: [
                ctx.label("customer_kind", h.kind.as_str()),
                h.city.unwrap_or_default(),
                // A phone hit in the shape the rest of the UI shows phones in.
                match h.matched_on.as_str() {
                    "phone" => normalize_phone(&h.matched_value)
                        .ok()
                        .and_then(|e164| display_phone(&e164))
                        .unwrap_or(h.matched_value),
                    _ => h.matched_value,
                },
            ]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" · "),
            name: h.name,
            matched: text::match_key(&h.matched_on),
        })
        .collect()
}

/// The new-customer link for an unknown caller: the typed number when it is a whole phone
/// number and the reader may create customers, else empty.
fn new_with(user: &UiUser, query: &str) -> String {
    let whole = phone_digits(query).is_some() && normalize_phone(query).is_ok();
    if whole && user.actor.can(Permission::WriteCustomers) {
        format!("/customers/new?mobile={}", urlencode(query.trim()))
    } else {
        String::new()
    }
}

/// The new-lead link for an unknown caller, like [`new_with`] for the reader who works leads.
fn new_lead_with(user: &UiUser, query: &str) -> String {
    let whole = phone_digits(query).is_some() && normalize_phone(query).is_ok();
    if whole && user.actor.can(Permission::WorkOpportunities) {
        format!("/leads/new?origin=call&mobile={}", urlencode(query.trim()))
    } else {
        String::new()
    }
}

fn query_of(q: &FormData) -> String {
    q.get("q").unwrap_or("").chars().take(200).collect()
}

/// Search-as-you-type fragment: the identification hits for what is typed so far.
pub async fn hits(
    State(st): State<AppState>,
    user: UiUser,
    q: FormData,
) -> Result<Response, UiError> {
    user.require(Permission::ReadCustomers)?;
    let query = query_of(&q);
    let hits = if query.is_empty() {
        Vec::new()
    } else {
        guanxi_app::customers::identify(&st.store, &user.actor, &query, AS_YOU_TYPE)
            .await
            .map_err(|e| UiError::from_api(user.locale, e.into()))?
    };
    let ctx = user.ctx("search.label");
    let tpl = HitsTpl {
        new_with: if hits.is_empty() {
            new_with(&user, &query)
        } else {
            String::new()
        },
        hits: views(&ctx, hits),
        ctx,
        query_empty: query.is_empty(),
    };
    Ok(render(user.locale, &tpl))
}

/// Enter in the search box: the single best match opens; tied best matches become choices; an
/// unknown number is offered as a new customer; other text opens the filtered list.
pub async fn go(
    State(st): State<AppState>,
    user: UiUser,
    q: FormData,
) -> Result<Response, UiError> {
    user.require(Permission::ReadCustomers)?;
    let query = query_of(&q);
    if query.is_empty() {
        return Ok(Redirect::to("/customers").into_response());
    }
    let mut hits = guanxi_app::customers::identify(&st.store, &user.actor, &query, CHOICES)
        .await
        .map_err(|e| UiError::from_api(user.locale, e.into()))?;
    let best = hits.first().map(|h| h.score);
    let tied = hits.iter().filter(|h| Some(h.score) == best).count();
    let list_url = format!("/customers?q={}", urlencode(&query));
    if tied == 1 {
        return Ok(Redirect::to(&format!("/customers/{}", hits[0].customer_id)).into_response());
    }
    let new_with = new_with(&user, &query);
    if hits.is_empty() && new_with.is_empty() {
        return Ok(Redirect::to(&list_url).into_response());
    }
    hits.truncate(tied);
    let ctx = user.ctx("search.choose");
    let tpl = ChoicesTpl {
        hits: views(&ctx, hits),
        new_lead_with: new_lead_with(&user, &query),
        ctx,
        query,
        new_with,
        list_url,
    };
    Ok(render(user.locale, &tpl))
}
