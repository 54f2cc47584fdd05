//! Merging duplicates in the browser: from a customer's page, pick the other record (its
//! possible duplicates, or a search), compare the two side by side choosing each differing
//! field, see what moves, merge, and undo within 30 days. The same store functions as the API
//! (`merge_preview`, `merge_customers`, `undo_merge`) do the work.

use crate::ui::session::Submitted;
use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use guanxi_domain::merge::MERGE_FIELDS;
use guanxi_domain::records::{Customer, IdentifyHit};
use guanxi_store::duplicates::DuplicateCandidate;
use guanxi_store::merge::{MergeCounts, MergePreview};
use guanxi_store::StoreError;

use crate::features::customers::profile::{anniversary_text, section_summary};
use crate::state::AppState;
use crate::ui::format;
use crate::ui::render;
use crate::ui::session::{page_err, Ctx, FormData, UiError, UiUser};
use guanxi_app::customers::present;

/// Who may merge (the application layer's rule): pages offer the action only to them.
pub fn can_merge(user: &UiUser) -> bool {
    guanxi_app::merge::can_merge(&user.actor)
}

fn require_merge(user: &UiUser) -> Result<(), UiError> {
    guanxi_app::merge::require_merge(&user.actor).map_err(page_err(user.locale))
}

/// One row of the side-by-side table.
struct FieldRow {
    field: &'static str,
    label: &'static str,
    kept: String,
    other: String,
    /// Differs, so the user chooses; else shown once, greyed.
    choose: bool,
    /// The default choice is the other record's value.
    take_other: bool,
}

#[derive(Template)]
#[template(path = "merge/compare.html")]
struct CompareTpl {
    ctx: Ctx,
    kept: Customer,
    other: Customer,
    rows: Vec<FieldRow>,
    moves: Vec<(&'static str, String)>,
    tags_after: Vec<String>,
    error: String,
}

#[derive(Template)]
#[template(path = "merge/choose.html")]
struct ChooseTpl {
    ctx: Ctx,
    kept: Customer,
    q: String,
    duplicates: Vec<(i64, String, &'static str)>,
    hits: Vec<IdentifyHit>,
}

/// The label key of a mergeable field.
fn field_label(field: &str) -> &'static str {
    match field {
        "name" => "field.name",
        "gender" => "field.gender",
        "birthday" => "field.birthday",
        "id_number" => "field.id_number",
        "province" => "field.province",
        "city" => "field.city",
        "address" => "field.address",
        "time_zone" => "field.time_zone",
        "employer" => "field.employer",
        "job_title" => "field.job_title",
        "industry" => "field.industry",
        "lifecycle_stage" => "field.lifecycle_stage",
        "owner_id" => "field.owner",
        "profile" => "field.profile",
        _ => "field.company",
    }
}

/// A field's value in words, as the 360 page shows it (masked where the reader may not see).
fn shown(ctx: &Ctx, c: &Customer, field: &str, names: &HashMap<i64, String>) -> String {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    match field {
        "name" => c.name.clone(),
        "gender" => c
            .gender
            .map(|g| ctx.label("gender", g.as_str()))
            .unwrap_or_default(),
        "birthday" => c
            .birthday
            .as_ref()
            .map(|a| anniversary_text(ctx, a))
            .unwrap_or_default(),
        "id_number" => opt(&c.id_number),
        "province" => opt(&c.province),
        "city" => opt(&c.city),
        "address" => opt(&c.address),
        "time_zone" => opt(&c.time_zone),
        "employer" => opt(&c.employer),
        "job_title" => opt(&c.job_title),
        "industry" => opt(&c.industry),
        "lifecycle_stage" => ctx.label("lifecycle_stage", c.lifecycle_stage.as_str()),
        "owner_id" => c
            .owner_id
            .and_then(|o| names.get(&o).cloned())
            .unwrap_or_default(),
        _ => section_summary(ctx, c),
    }
}

fn move_list(user: &UiUser, m: &MergeCounts) -> Vec<(&'static str, String)> {
    [
        ("merge.moves_contacts", m.contact_points),
        ("merge.moves_orders", m.orders),
        ("merge.moves_interactions", m.interactions),
        ("merge.moves_tasks", m.tasks),
        ("merge.moves_relations", m.relations),
        ("merge.moves_tags", m.tags),
    ]
    .into_iter()
    .filter(|(_, n)| *n > 0)
    .map(|(key, n)| (key, crate::ui::text::count(user.locale, key, n as i64)))
    .collect()
}

async fn render_compare(
    st: &AppState,
    user: &UiUser,
    p: MergePreview,
    error: String,
    status: StatusCode,
) -> Result<Response, UiError> {
    let ctx = user.ctx("merge.title");
    let names: HashMap<i64, String> = guanxi_app::users::directory(&st.store, &user.actor)
        .await
        .map_err(page_err(user.locale))?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect();
    let kept = present(&user.actor, p.winner).0;
    let other = present(&user.actor, p.loser).0;
    let rows = MERGE_FIELDS
        .into_iter()
        .filter(|f| match kept.kind {
            guanxi_domain::vocabulary::CustomerKind::Individual => *f != "company",
            guanxi_domain::vocabulary::CustomerKind::Company => *f != "profile",
        })
        .map(|f| FieldRow {
            field: f,
            label: field_label(f),
            kept: shown(&ctx, &kept, f, &names),
            other: shown(&ctx, &other, f, &names),
            choose: p.differing.contains(&f),
            take_other: p.suggested.contains(&f),
        })
        .collect();
    let tpl = CompareTpl {
        ctx,
        moves: move_list(user, &p.moves),
        kept,
        other,
        rows,
        tags_after: p.tags_after,
        error,
    };
    Ok((status, render(user.locale, &tpl)).into_response())
}

fn id_param(user: &UiUser, form: &FormData, name: &str) -> Result<Option<i64>, UiError> {
    match form.get(name).map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .map(Some)
            .ok_or_else(|| {
                UiError::Invalid(
                    user.locale,
                    StatusCode::BAD_REQUEST,
                    vec![format!(
                        "{name}: {}",
                        crate::i18n::message(user.locale, "not_a_number")
                    )],
                )
            }),
    }
}

/// The merge choice of a duplicate warning or the 360 list: what it shares, for the label.
pub fn candidate_views(d: Vec<DuplicateCandidate>) -> Vec<(i64, String, &'static str)> {
    d.into_iter()
        .map(|d| {
            (
                d.customer_id,
                d.name,
                crate::features::customers::form::shared_key(&d.matched_on),
            )
        })
        .collect()
}

/// `GET /customers/{id}/merge?other=ID` compares the two; without `other` it offers the
/// possible duplicates and a search (`q`) to pick the record to merge in.
pub async fn page(
    State(st): State<AppState>,
    user: UiUser,
    Path(id): Path<i64>,
    q: FormData,
) -> Result<Response, UiError> {
    require_merge(&user)?;
    if let Some(other) = id_param(&user, &q, "other")? {
        let p = guanxi_app::merge::preview(&st.store, &user.actor, id, other)
            .await
            .map_err(page_err(user.locale))?;
        return render_compare(&st, &user, p, String::new(), StatusCode::OK).await;
    }
    let kept = guanxi_app::customers::load_for_change(&st.store, &user.actor, id)
        .await
        .map_err(page_err(user.locale))?;
    let kept = present(&user.actor, kept).0;
    let duplicates = candidate_views(
        guanxi_app::merge::duplicates_of(&st.store, &user.actor, id)
            .await
            .map_err(page_err(user.locale))?,
    );
    let needle = q.get("q").unwrap_or("").trim().to_string();
    let hits = if needle.is_empty() {
        Vec::new()
    } else {
        guanxi_app::customers::identify(&st.store, &user.actor, &needle, 20)
            .await
            .map_err(page_err(user.locale))?
            .into_iter()
            .filter(|h| h.customer_id != id && h.kind == kept.kind)
            .collect()
    };
    let tpl = ChooseTpl {
        ctx: user.ctx("merge.title"),
        kept,
        q: needle,
        duplicates,
        hits,
    };
    Ok(render(user.locale, &tpl))
}

/// `POST /customers/{id}/merge`: `other`, both versions, and `take_<field>=other` for each
/// field taken from the merged-away record. A record changed meanwhile shows the comparison
/// again, fresh, with the conflict said (409).
pub async fn merge(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    require_merge(&user)?;
    let bad = |name: &str| {
        UiError::Invalid(
            user.locale,
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![format!(
                "{name}: {}",
                crate::i18n::message(user.locale, "required")
            )],
        )
    };
    let other = id_param(&user, &form, "other")?.ok_or_else(|| bad("other"))?;
    let version = id_param(&user, &form, "version")?.ok_or_else(|| bad("version"))?;
    let other_version =
        id_param(&user, &form, "other_version")?.ok_or_else(|| bad("other_version"))?;
    let take: Vec<String> = MERGE_FIELDS
        .into_iter()
        .filter(|f| form.get(&format!("take_{f}")) == Some("other"))
        .map(String::from)
        .collect();
    match guanxi_app::merge::merge(
        &st.store,
        &user.actor,
        id,
        version,
        other,
        other_version,
        &take,
    )
    .await
    {
        Ok(m) => {
            Ok(Redirect::to(&format!("/customers/{id}?merged={}", m.merge_id)).into_response())
        }
        Err(guanxi_app::AppError::Store(StoreError::Conflict { .. })) => {
            let p = guanxi_app::merge::preview(&st.store, &user.actor, id, other)
                .await
                .map_err(page_err(user.locale))?;
            let msg = crate::ui::text::t(user.locale, "merge.conflict").to_string();
            render_compare(&st, &user, p, msg, StatusCode::CONFLICT).await
        }
        Err(e) => Err(page_err(user.locale)(e)),
    }
}

/// `POST /merges/{id}/undo`: the merged-away record comes back; its page opens.
pub async fn undo(
    State(st): State<AppState>,
    Path(merge_id): Path<i64>,
    Submitted { user, .. }: Submitted,
) -> Result<Response, UiError> {
    require_merge(&user)?;
    let c = guanxi_app::merge::undo(&st.store, &user.actor, merge_id)
        .await
        .map_err(page_err(user.locale))?;
    Ok(Redirect::to(&format!("/customers/{}?saved=unmerged", c.id)).into_response())
}

/// The merge section of the 360 page: possible duplicates to compare, and merges into this
/// record that can still be undone.
pub struct MergeSection {
    /// (id, name, what they share).
    pub duplicates: Vec<(i64, String, &'static str)>,
    /// (merge id, merged-away name, when, undo until).
    pub undoable: Vec<(i64, String, String, String)>,
}

/// Loads the 360 page's merge section (empty for users who may not merge).
pub async fn section(
    st: &AppState,
    user: &UiUser,
    id: i64,
    tz: chrono::FixedOffset,
) -> Result<MergeSection, UiError> {
    if !can_merge(user) {
        return Ok(MergeSection {
            duplicates: Vec::new(),
            undoable: Vec::new(),
        });
    }
    let duplicates = candidate_views(
        guanxi_app::merge::duplicates_of(&st.store, &user.actor, id)
            .await
            .map_err(page_err(user.locale))?,
    );
    let undoable = guanxi_app::merge::undoable(&st.store, &user.actor, id)
        .await
        .map_err(page_err(user.locale))?
        .into_iter()
        .map(|m| {
            (
                m.id,
                m.loser_name,
                format::datetime(m.merged_at, tz),
                format::date(m.undo_until, tz),
            )
        })
        .collect();
    Ok(MergeSection {
        duplicates,
        undoable,
    })
}
