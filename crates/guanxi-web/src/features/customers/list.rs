//! The customer list: filters, sort, keyset pages, chosen columns, and bulk tag / reassign.

use crate::ui::session::Submitted;
use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use guanxi_domain::customer::CustomerPatch;
use guanxi_domain::records::ContactPoint;
use guanxi_domain::role::Permission;
use guanxi_domain::vocabulary::{ContactKind, CustomerKind, LifecycleStage, SourceChannel};
use guanxi_store::customers::{CustomerFilter, CustomerSort};

use crate::state::AppState;
use crate::ui::format;
use crate::ui::pages::stage_codes;
use crate::ui::render;
use crate::ui::session::{urlencode, Ctx, FormData, UiError, UiUser};
use guanxi_app::customers::LIST_COUNT_CAP;

/// A column the user may show.
struct Column {
    key: String,
    label: String,
    on: bool,
}

/// Columns in display order, with the default selection.
const COLUMNS: &[(&str, &str, bool)] = &[
    ("phone", "field.phone", true),
    ("email", "field.email", false),
    ("city", "field.city", true),
    ("stage", "field.lifecycle_stage", true),
    ("tier", "field.tier", true),
    ("owner", "field.owner", true),
    ("source", "field.source_channel", false),
    ("tags", "field.tags", false),
    ("updated", "field.updated_at", true),
];

/// The filter values as typed, echoed back into the form.
#[derive(Default)]
struct Filters {
    q: String,
    owner: String,
    tag: String,
    stage: String,
    tier: String,
    city: String,
    source: String,
    kind: String,
    sort: String,
    order: String,
}

struct RowView {
    id: i64,
    name: String,
    company: bool,
    cells: Vec<String>,
}

#[derive(Template)]
#[template(path = "customers/list.html")]
struct ListTpl {
    ctx: Ctx,
    f: Filters,
    owners: Vec<(i64, String)>,
    stages: Vec<&'static str>,
    tiers: Vec<&'static str>,
    sources: Vec<&'static str>,
    kinds: Vec<&'static str>,
    sorts: Vec<&'static str>,
    columns: Vec<Column>,
    headers: Vec<String>,
    custom_filters: Vec<crate::features::custom_field::list::CustomFilterView>,
    rows: Vec<RowView>,
    next_url: String,
    first_url: String,
    flash: String,
    score_filter: String,
    /// The saved segment the list is restricted to (id, name).
    saved_segment: Option<(i64, String)>,
    hidden_score: Vec<(&'static str, String)>,
    /// "1,234 customers" or "10,000+ customers".
    total: String,
    /// How many match, when a bulk action may take them all (else 0).
    all_matching: i64,
    /// The list's query string (no cursor), for "all matching".
    query: String,
}

/// Most customers one "all matching" bulk action changes (each is updated and audited on its
/// own, within the request).
const MAX_BULK_ALL: i64 = 2_000;

/// Parses `r,f`; the store checks the range (1–5 each).
fn parse_rf(s: &str) -> Option<(i64, i64)> {
    let (r, f) = s.split_once(',')?;
    Some((r.trim().parse().ok()?, f.trim().parse().ok()?))
}

fn parse<T>(
    v: Option<&str>,
    p: fn(&str) -> Result<T, &'static str>,
    locale: crate::i18n::Locale,
) -> Result<Option<T>, UiError> {
    v.map(|s| p(s).map_err(|_| UiError::BadForm(locale)))
        .transpose()
}

/// Names of the active users, by id (owners, assignees, audit actors).
pub async fn user_names(st: &AppState, user: &UiUser) -> Result<Vec<(i64, String)>, UiError> {
    Ok(active_names(
        &guanxi_app::users::directory(&st.store, &user.actor)
            .await
            .map_err(|e| UiError::from_api(user.locale, e.into()))?,
    ))
}

/// The active users of a list as (id, display name), for pickers.
pub fn active_names(users: &[guanxi_domain::records::User]) -> Vec<(i64, String)> {
    users
        .iter()
        .filter(|u| u.active)
        .map(|u| (u.id, u.display_name.clone()))
        .collect()
}

/// A contact value as pages show it: a phone in one shape whatever way it was typed
/// ([`guanxi_domain::contact::display_phone`]), anything else as given.
pub fn shown_value(cp: &ContactPoint) -> String {
    match cp.kind {
        ContactKind::Mobile | ContactKind::Phone => {
            guanxi_domain::contact::display_phone(&cp.value_normalized)
                .unwrap_or_else(|| cp.value.clone())
        }
        _ => cp.value.clone(),
    }
}

/// The customer filter a list's query string asks for (the page and "all matching" bulk
/// actions read it the same way).
async fn filter_from(
    st: &AppState,
    user: &UiUser,
    q: &FormData,
) -> Result<(CustomerFilter, guanxi_app::segments::ListNarrowing), UiError> {
    let l = user.locale;
    let tier = q.get("tier").map(str::to_string);
    let sort = match q.get("sort") {
        None => CustomerSort::default(),
        Some(s) => CustomerSort::parse(s).ok_or(UiError::BadForm(l))?,
    };
    let desc = match q.get("order") {
        Some("asc") => false,
        Some("desc") => true,
        None => matches!(sort, CustomerSort::UpdatedAt | CustomerSort::CreatedAt),
        Some(_) => return Err(UiError::BadForm(l)),
    };
    let owner_id = match q.get("owner") {
        Some(s) => Some(s.parse::<i64>().map_err(|_| UiError::BadForm(l))?),
        None => None,
    };
    let segment = q.get("segment").map(str::to_string);
    let cell = q.get("cell").map(str::to_string);
    let rf = match q.get("rf") {
        Some(s) => Some(parse_rf(s).ok_or(UiError::BadForm(l))?),
        None => None,
    };
    let segment_id = match q.get("segment_id") {
        Some(s) => Some(s.parse::<i64>().map_err(|_| UiError::BadForm(l))?),
        None => None,
    };
    // A saved segment and/or an ad-hoc rule (a chart's click-through: "CLV between …").
    let narrowing = guanxi_app::segments::list_narrowing(
        &st.store,
        st.as_of(),
        &user.actor,
        segment_id,
        q.get("rule"),
    )
    .await
    .map_err(crate::ui::session::page_err(l))?;
    let mut custom = guanxi_app::custom_field::list_filters(
        &st.store,
        &user.actor,
        guanxi_domain::custom_field::FieldEntity::Customer,
        &crate::features::custom_field::list::page_pairs(q),
    )
    .await
    .map_err(|_| UiError::BadForm(l))?;
    custom.extend(narrowing.custom.iter().cloned());
    let filter = CustomerFilter {
        custom,
        segment: narrowing.filter.clone(),
        owner_id,
        lifecycle_stage: parse(q.get("stage"), LifecycleStage::parse, l)?,
        kind: parse(q.get("kind"), CustomerKind::parse, l)?,
        city: q.get("city").map(str::to_string),
        tag: q.get("tag").map(str::to_string),
        source_channel: parse(q.get("source"), SourceChannel::parse, l)?,
        q: q.get("q").map(str::to_string),
        tier,
        rfm_segment: segment.clone(),
        value_cell: cell.clone(),
        rf,
        sort,
        desc,
        cursor: q.get("cursor").map(str::to_string),
        limit: 50,
    };
    Ok((filter, narrowing))
}

/// The list page.
pub async fn list(
    State(st): State<AppState>,
    user: UiUser,
    q: FormData,
) -> Result<Response, UiError> {
    user.require(Permission::ReadCustomers)?;
    let l = user.locale;
    let (filter, narrowing) = filter_from(&st, &user, &q).await?;
    let rf = filter.rf;
    let segment = q.get("segment").map(str::to_string);
    let cell = q.get("cell").map(str::to_string);
    // A filter value the store refuses (an unknown RFM segment, R/F out of range) came from
    // the query string: 400, whichever query meets it first.
    let bad_query = |e: guanxi_app::AppError| match e {
        guanxi_app::AppError::InvalidQuery(_) => UiError::BadForm(l),
        other => UiError::from_api(l, other.into()),
    };
    let (count, capped) =
        guanxi_app::customers::count_customers(&st.store, &user.actor, &filter, LIST_COUNT_CAP)
            .await
            .map_err(bad_query)?;
    let page = guanxi_app::customers::list_customers(&st.store, &user.actor, &filter)
        .await
        .map_err(bad_query)?;
    let chosen = q.all("col");
    let ctx = user.ctx("customers.title");
    let owners = user_names(&st, &user).await?;
    let custom_fields = crate::features::custom_field::list::ListFields::of(
        &st,
        &user,
        guanxi_domain::custom_field::FieldEntity::Customer,
        &owners,
    )
    .await?;
    let custom_defs = &custom_fields.defs;
    let mut columns: Vec<Column> = COLUMNS
        .iter()
        .map(|(key, label, default)| Column {
            key: key.to_string(),
            label: ctx.t(label).to_string(),
            on: if chosen.is_empty() {
                *default
            } else {
                chosen.contains(key)
            },
        })
        .collect();
    columns.extend(custom_defs.iter().map(|d| {
        let key = guanxi_app::custom_field::form_name(d);
        Column {
            on: chosen.contains(&key.as_str()),
            key,
            label: d.label(l.code()).to_string(),
        }
    }));
    let owner_names: HashMap<i64, &str> = owners.iter().map(|(i, n)| (*i, n.as_str())).collect();
    let custom_filters = custom_fields.inputs(&user, &ctx, &q);
    let tz = format::zone(st.utc_offset_hours);
    let show_tier = columns.iter().any(|c| c.key == "tier" && c.on);
    let tiers = if show_tier {
        let ids: Vec<i64> = page.items.iter().map(|c| c.id).collect();
        guanxi_app::analytics::scores_of(&st.store, &user.actor, &ids)
            .await
            .map_err(|e| UiError::from_api(l, e.into()))?
    } else {
        HashMap::new()
    };
    let mut rows = Vec::with_capacity(page.items.len());
    for c in &page.items {
        let tier = tiers
            .get(&c.id)
            .map(|t| ctx.label("tier", &t.abc_class))
            .unwrap_or_default();
        let cells = columns
            .iter()
            .filter(|col| col.on)
            .map(|col| match col.key.as_str() {
                custom if custom.starts_with("cf.") => custom_defs
                    .iter()
                    .find(|d| d.code == custom[3..])
                    .map(|d| custom_fields.cell(&user, d, &c.custom))
                    .unwrap_or_default(),
                "phone" => c
                    .first_contact(&[ContactKind::Mobile, ContactKind::Phone])
                    .map(shown_value)
                    .unwrap_or_default(),
                "email" => c.first_contact_value(&[ContactKind::Email]),
                "city" => c.city.clone().unwrap_or_default(),
                "stage" => ctx.label("lifecycle_stage", c.lifecycle_stage.as_str()),
                "tier" => tier.clone(),
                "owner" => c
                    .owner_id
                    .and_then(|o| owner_names.get(&o).map(|s| s.to_string()))
                    .unwrap_or_default(),
                "source" => ctx.label("source_channel", c.source.channel.as_str()),
                "tags" => c.tags.join(", "),
                "updated" => format::datetime(c.meta.updated_at, tz),
                _ => String::new(),
            })
            .collect();
        rows.push(RowView {
            id: c.id,
            name: c.name.clone(),
            company: c.kind == CustomerKind::Company,
            cells,
        });
    }
    // The same query string without the cursor, for "next" and "first" links.
    let base: Vec<String> = [
        "q",
        "owner",
        "tag",
        "stage",
        "tier",
        "city",
        "source",
        "kind",
        "sort",
        "order",
        "segment",
        "cell",
        "rf",
        "segment_id",
        "rule",
    ]
    .iter()
    .filter_map(|k| q.get(k).map(|v| format!("{k}={}", urlencode(v))))
    .chain(
        q.pairs()
            .iter()
            .filter(|(k, v)| k.starts_with("cf.") && !v.trim().is_empty())
            .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v))),
    )
    .chain(chosen.iter().map(|c| format!("col={}", urlencode(c))))
    .collect();
    let query = base.join("&");
    let base = format!("/customers?{query}");
    let next_url = page
        .next_cursor
        .map(|c| format!("{base}&cursor={c}"))
        .unwrap_or_default();
    let first_url = if q.get("cursor").is_some() {
        base
    } else {
        String::new()
    };
    let flash = match (q.get("done"), q.get("failed")) {
        _ if q.get("erased").is_some() => ctx.t("dsr.erased").to_string(),
        (Some(d), f) => {
            let mut s = match d.parse::<i64>() {
                Ok(n) => ctx.count("bulk.done", n),
                Err(_) => ctx.tf("bulk.done", &[("n", &d)]),
            };
            if let Some(f) = f.filter(|f| *f != "0") {
                s.push(' ');
                s.push_str(&ctx.tf("bulk.failed", &[("n", &f)]));
            }
            s
        }
        _ => String::new(),
    };
    let mut score_filter = Vec::new();
    let mut hidden_score = Vec::new();
    if let Some(s) = &segment {
        score_filter.push(ctx.label("rfm_segment", s));
        hidden_score.push(("segment", s.clone()));
    }
    if let Some(c) = &cell {
        score_filter.push(ctx.label("value_cell", c));
        hidden_score.push(("cell", c.clone()));
    }
    if let Some((r, f)) = rf {
        score_filter.push(format!("R{r} F{f}"));
        hidden_score.push(("rf", format!("{r},{f}")));
    }
    if let Some(seg) = &narrowing.segment {
        hidden_score.push(("segment_id", seg.id.to_string()));
    }
    if let (Some(rule), Some(json)) = (&narrowing.rule, q.get("rule")) {
        let words = crate::features::segments::pages::Words {
            users: owners.iter().cloned().collect(),
            custom: custom_defs.clone(),
        };
        score_filter.push(crate::features::segments::pages::describe(
            &ctx, rule, &words,
        ));
        hidden_score.push(("rule", json.to_string()));
    }
    let total = if capped {
        ctx.tf(
            "customers.total_capped",
            &[("n", &format::thousands(count))],
        )
    } else {
        ctx.count("customers.total", count)
    };
    let all_matching = if !capped && count > rows.len() as i64 && count <= MAX_BULK_ALL {
        count
    } else {
        0
    };
    let tpl = ListTpl {
        saved_segment: narrowing.segment.map(|s| (s.id, s.name)),
        score_filter: score_filter.join(" · "),
        hidden_score,
        headers: columns
            .iter()
            .filter(|c| c.on)
            .map(|c| c.label.clone())
            .collect(),
        custom_filters,
        f: Filters {
            q: q.get("q").unwrap_or("").into(),
            owner: q.get("owner").unwrap_or("").into(),
            tag: q.get("tag").unwrap_or("").into(),
            stage: q.get("stage").unwrap_or("").into(),
            tier: q.get("tier").unwrap_or("").into(),
            city: q.get("city").unwrap_or("").into(),
            source: q.get("source").unwrap_or("").into(),
            kind: q.get("kind").unwrap_or("").into(),
            sort: q.get("sort").unwrap_or("updated_at").into(),
            order: q.get("order").unwrap_or("").into(),
        },
        ctx,
        owners,
        stages: stage_codes(),
        tiers: vec!["A", "B", "C"],
        sources: SourceChannel::ALL.iter().map(|s| s.as_str()).collect(),
        kinds: CustomerKind::ALL.iter().map(|s| s.as_str()).collect(),
        sorts: vec!["updated_at", "created_at", "name", "id"],
        columns,
        query,
        total,
        all_matching,
        rows,
        next_url,
        first_url,
        flash,
    };
    Ok(render(l, &tpl))
}

/// The customer list narrowed by a segment rule (JSON), as the charts link to it.
pub fn list_link(rule: &serde_json::Value) -> String {
    format!("/customers?rule={}", urlencode(&rule.to_string()))
}

/// The customer filter a list's query string (as kept by a bulk action or an export request)
/// asks for.
pub(crate) async fn filter_of_query(
    st: &AppState,
    user: &UiUser,
    query: &str,
) -> Result<CustomerFilter, UiError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query).map_err(|_| UiError::BadForm(user.locale))?;
    Ok(filter_from(st, user, &FormData::from_pairs(pairs)).await?.0)
}

/// The ids of every customer a list's query string selects (for "apply to all matching"),
/// refused with the reason when more than [`MAX_BULK_ALL`] match.
async fn all_matching_ids(st: &AppState, user: &UiUser, query: &str) -> Result<Vec<i64>, UiError> {
    let l = user.locale;
    let mut filter = filter_of_query(st, user, query).await?;
    let err = |e: guanxi_app::AppError| UiError::from_api(l, e.into());
    let (_, capped) =
        guanxi_app::customers::count_customers(&st.store, &user.actor, &filter, MAX_BULK_ALL)
            .await
            .map_err(err)?;
    if capped {
        return Err(UiError::Invalid(
            l,
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            vec![crate::ui::text::tf(
                l,
                "bulk.too_many",
                &[("n", &format::thousands(MAX_BULK_ALL))],
            )],
        ));
    }
    filter.cursor = None;
    filter.limit = 200;
    let mut ids = Vec::new();
    loop {
        let page = guanxi_app::customers::list_customers(&st.store, &user.actor, &filter)
            .await
            .map_err(err)?;
        ids.extend(page.items.iter().map(|c| c.id));
        match page.next_cursor {
            Some(c) => filter.cursor = Some(c),
            None => return Ok(ids),
        }
    }
}

/// Most customers one bulk action touches.
const MAX_BULK: usize = 200;

/// Bulk action on the ticked customers: add a tag (needs write) or assign an owner (needs
/// reassign). Each customer is updated on its own with its current version and audited; the
/// result page says how many were changed and how many were not.
pub async fn bulk(
    State(st): State<AppState>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::WriteCustomers)?;
    let l = user.locale;
    let ids: Vec<i64> = if form.get("all") == Some("1") {
        all_matching_ids(&st, &user, form.get("query").unwrap_or("")).await?
    } else {
        let ids: Vec<i64> = form
            .all("ids")
            .iter()
            .map(|s| s.parse::<i64>().map_err(|_| UiError::BadForm(l)))
            .collect::<Result<_, _>>()?;
        if ids.len() > MAX_BULK {
            return Err(UiError::BadForm(l));
        }
        ids
    };
    enum Action {
        Tag(String),
        Assign(i64),
    }
    let action = match form.get("action") {
        Some("tag") => Action::Tag(form.get("tag").ok_or(UiError::BadForm(l))?.to_string()),
        Some("assign") => {
            user.require(Permission::ReassignCustomers)?;
            Action::Assign(
                form.get("owner")
                    .and_then(|s| s.parse().ok())
                    .ok_or(UiError::BadForm(l))?,
            )
        }
        _ => return Err(UiError::BadForm(l)),
    };
    let (mut done, mut failed) = (0, 0);
    for id in ids {
        let Ok(c) = guanxi_app::customers::load_for_change(&st.store, &user.actor, id).await else {
            failed += 1;
            continue;
        };
        let mut patch = CustomerPatch {
            version: c.meta.version,
            ..Default::default()
        };
        match &action {
            Action::Tag(t) => {
                if c.tags.contains(t) {
                    done += 1;
                    continue;
                }
                let mut tags = c.tags.clone();
                tags.push(t.clone());
                patch.tags = Some(tags);
            }
            Action::Assign(o) => patch.owner_id = Some(*o),
        }
        match guanxi_app::customers::update_customer(&st.store, &user.actor, id, patch).await {
            Ok(_) => done += 1,
            Err(_) => failed += 1,
        }
    }
    let back = form
        .get("back")
        .filter(|b| b.starts_with("/customers"))
        .unwrap_or("/customers");
    let sep = if back.contains('?') { '&' } else { '?' };
    Ok(Redirect::to(&format!("{back}{sep}done={done}&failed={failed}")).into_response())
}
