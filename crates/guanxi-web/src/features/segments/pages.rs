//! Segments in the browser: the list (with each segment's size for the reader), the editor
//! (rows of field · condition · value, live size preview over htmx), a segment's page (its rule
//! in words, its size, links to its customers and its export) and the CSV export.
//!
//! The editor posts rows as aligned repeated fields (`field`, `op`, `value`, `days`); the rule
//! they make is checked by the domain, and its errors come back with clause paths that are
//! mapped onto the rows, so a message sits beside the row it is about.

use crate::ui::session::Submitted;
use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use guanxi_domain::role::Permission;
use guanxi_domain::segment::{
    field_spec, FieldSpec, RuleClause, SegmentInput, SegmentRule, ValueKind, CUSTOM_PREFIX, FIELDS,
};
use guanxi_domain::ValidationError;
use guanxi_store::segments::Segment;

use axum::routing::{get, post};
use guanxi_app::segments as uc;

use crate::features::customers::list::user_names;
use crate::state::AppState;
use crate::ui::format;
use crate::ui::render;
use crate::ui::session::{api_errors, page_err, Ctx, FormData, UiError, UiUser};
use guanxi_domain::custom_field::FieldDefinition;

/// The segment pages.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/segments", get(list))
        .route("/segments/new", get(new_form).post(create))
        .route("/segments/preview", post(preview))
        .route("/segments/{id}", get(page))
        .route("/segments/{id}/edit", get(edit_form).post(update))
        .route("/segments/{id}/delete", post(delete))
        .route("/segments/{id}/export.csv", get(export))
}

/// A choice in a select.
struct Opt {
    code: String,
    label: String,
    selected: bool,
}

/// One editor row.
struct RowView {
    fields: Vec<Opt>,
    ops: Vec<Opt>,
    /// Choices of a code field (a select instead of a text box).
    choices: Vec<Opt>,
    value: String,
    /// `text`, `number`, `days`, `user`, `none` (the input's kind).
    kind: &'static str,
    days: String,
    days_on: bool,
    /// A nested group kept as JSON (deeper than the editor edits; shown read-only).
    group: String,
    /// 0 for a top-level row, 1 for a condition inside an editable group.
    depth: u8,
    /// The header of an editable group (its conditions follow as depth-1 rows).
    group_header: bool,
    /// The group's conditions are joined by "any" (else "all").
    group_any: bool,
    /// The group is negated ("none of").
    group_not: bool,
    errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "segments/edit.html")]
struct EditTpl {
    ctx: Ctx,
    id: i64,
    version: i64,
    name: String,
    description: String,
    match_any: bool,
    rows: Vec<RowView>,
    /// Errors not tied to a row: (field key, message).
    errors: Vec<(String, String)>,
    catalogue: String,
    blank: RowView,
    blank_child: RowView,
    blank_group: RowView,
}

struct ListRow {
    id: i64,
    name: String,
    description: String,
    summary: String,
    size: i64,
    /// When the size was counted ahead; empty: counted for this page.
    counted: String,
    updated: String,
}

#[derive(Template)]
#[template(path = "segments/list.html")]
struct ListTpl {
    ctx: Ctx,
    rows: Vec<ListRow>,
    can_manage: bool,
}

#[derive(Template)]
#[template(path = "segments/page.html")]
struct ViewTpl {
    ctx: Ctx,
    seg: Segment,
    summary: String,
    size: i64,
    updated: String,
    can_manage: bool,
    can_export: bool,
    flash: String,
}

#[derive(Template)]
#[template(path = "segments/preview.html")]
struct PreviewTpl {
    ctx: Ctx,
    size: Option<i64>,
    problems: Vec<String>,
}

/// Which vocabulary labels a code field's values.
fn vocabulary_of(field: &str) -> &str {
    match field {
        "kind" => "customer_kind",
        "consent" => "contact_kind",
        other => other,
    }
}

fn value_label(ctx: &Ctx, field: &str, value: &str, users: &HashMap<i64, String>) -> String {
    match field_spec(field).map(|f| f.value) {
        Some(ValueKind::Code) if field == "consent" && value == "any" => {
            ctx.t("segment.any_channel").to_string()
        }
        Some(ValueKind::Code) => value
            .split([',', '，', '、'])
            .map(|v| ctx.label(vocabulary_of(field), v.trim()))
            .collect::<Vec<_>>()
            .join(" / "),
        Some(ValueKind::User) => value
            .parse::<i64>()
            .ok()
            .and_then(|id| users.get(&id).cloned())
            .unwrap_or_else(|| value.to_string()),
        _ => value.to_string(),
    }
}

/// What a rule's words need beyond the catalogue: the users' names and the custom fields.
#[derive(Default)]
pub struct Words {
    /// User names by id.
    pub users: HashMap<i64, String>,
    /// The customer fields (labels and choices of `cf.` clauses).
    pub custom: Vec<FieldDefinition>,
}

impl Words {
    /// The names and fields the reader may see.
    pub async fn load(st: &AppState, user: &UiUser) -> Result<Words, UiError> {
        Ok(Words {
            users: user_names(st, user).await?.into_iter().collect(),
            custom: custom_fields(st, user).await?,
        })
    }

    fn custom_field(&self, field: &str) -> Option<&FieldDefinition> {
        let code = field.strip_prefix(CUSTOM_PREFIX)?;
        self.custom.iter().find(|d| d.code == code)
    }
}

/// The customer fields the reader may filter by (readable ones).
async fn custom_fields(st: &AppState, user: &UiUser) -> Result<Vec<FieldDefinition>, UiError> {
    Ok(guanxi_app::custom_field::visible_fields(
        &st.store,
        &user.actor,
        guanxi_domain::custom_field::FieldEntity::Customer,
    )
    .await
    .map_err(page_err(user.locale))?
    .into_iter()
    .filter(|d| d.readable_by(&user.actor))
    .collect())
}

/// The rule in words: "城市 等于 上海 且 RFM 分群 等于 有流失风险 且 购买了商品 TEA-01（近 90 天）".
pub fn describe(ctx: &Ctx, rule: &SegmentRule, words: &Words) -> String {
    let users = &words.users;
    if rule.clauses.is_empty() {
        return ctx.t("segment.everyone").to_string();
    }
    let joiner = if rule.match_ == "any" {
        ctx.t("segment.or")
    } else {
        ctx.t("segment.and")
    };
    rule.clauses
        .iter()
        .map(|c| {
            if c.field == "group" {
                let inner = c
                    .rule
                    .as_deref()
                    .map(|r| describe(ctx, r, words))
                    .unwrap_or_default();
                let not = if c.op == "not" {
                    ctx.t("segment.not")
                } else {
                    ""
                };
                return format!("{not}({inner})");
            }
            let custom = words.custom_field(&c.field);
            let field_label = match custom {
                Some(d) => d.label(ctx.lang()).to_string(),
                None => ctx.t(&format!("segfield.{}", c.field)).to_string(),
            };
            let mut s = format!("{} {}", field_label, ctx.t(&format!("segop.{}", c.op)));
            if !matches!(c.op.as_str(), "empty" | "not_empty") {
                s.push(' ');
                s.push_str(&match custom {
                    Some(d) => c
                        .value
                        .split([',', '，', '、'])
                        .map(|v| d.choice_label(v.trim(), ctx.lang()).to_string())
                        .collect::<Vec<_>>()
                        .join(" / "),
                    None => value_label(ctx, &c.field, &c.value, users),
                });
            }
            if field_spec(&c.field).is_some_and(|f| f.value == ValueKind::Days) {
                s.push(' ');
                s.push_str(ctx.t("segment.days_unit"));
            }
            if !c.days.is_empty() {
                s.push_str(&ctx.tf("segment.in_last_days", &[("n", &c.days)]));
            }
            s
        })
        .collect::<Vec<_>>()
        .join(joiner)
}

fn kind_code(k: ValueKind) -> &'static str {
    match k {
        ValueKind::Text => "text",
        ValueKind::Code => "code",
        ValueKind::User => "user",
        ValueKind::Days => "days",
        ValueKind::Number => "number",
        ValueKind::Month => "month",
        ValueKind::None => "none",
    }
}

/// The values a field offers as (code, label): the codes of a code field, the active users of
/// the owner field, nothing for free input. The server-rendered rows and the catalogue `app.js`
/// rebuilds rows from share it.
fn choices(ctx: &Ctx, f: &FieldSpec, users: &[(i64, String)]) -> Vec<(String, String)> {
    match f.value {
        ValueKind::Code => f
            .choices
            .iter()
            .map(|v| (v.to_string(), value_label(ctx, f.code, v, &HashMap::new())))
            .collect(),
        ValueKind::User => users
            .iter()
            .map(|(i, n)| (i.to_string(), n.clone()))
            .collect(),
        _ => Vec::new(),
    }
}

/// One field of the editor's picker: a catalogue field or a custom one (`cf.<code>`).
struct EditorField {
    code: String,
    label: String,
    ops: &'static [&'static str],
    kind: &'static str,
    choices: Vec<(String, String)>,
    days: bool,
}

/// Every field the editor offers: the catalogue's, then the custom fields the reader may
/// filter by (a choice or yes/no field picks its values, a user field its user).
fn editor_fields(
    ctx: &Ctx,
    users: &[(i64, String)],
    custom: &[FieldDefinition],
) -> Vec<EditorField> {
    let mut out: Vec<EditorField> = FIELDS
        .iter()
        .map(|f| EditorField {
            code: f.code.to_string(),
            label: ctx.t(&format!("segfield.{}", f.code)).to_string(),
            ops: f.ops,
            kind: kind_code(f.value),
            choices: choices(ctx, f, users),
            days: f.days,
        })
        .collect();
    out.extend(custom.iter().map(|d| {
        let (_, options) = crate::features::custom_field::input_of(d, ctx.lang(), users);
        let choices: Vec<(String, String)> =
            options.into_iter().filter(|o| !o.0.is_empty()).collect();
        EditorField {
            code: format!("{CUSTOM_PREFIX}{}", d.code),
            label: d.label(ctx.lang()).to_string(),
            ops: d.kind.ops(),
            kind: if choices.is_empty() { "text" } else { "code" },
            choices,
            days: false,
        }
    }));
    out
}

/// The editor's catalogue as JSON for `app.js` (labels in the page language), so changing a
/// row's field offers that field's conditions and values without a round trip.
fn catalogue(ctx: &Ctx, fields: &[EditorField]) -> String {
    let fields: Vec<serde_json::Value> = fields
        .iter()
        .map(|f| {
            serde_json::json!({
                "code": f.code,
                "label": f.label,
                "ops": f.ops.iter().map(|o| serde_json::json!([o, ctx.t(&format!("segop.{o}"))])).collect::<Vec<_>>(),
                "kind": f.kind,
                "choices": f.choices,
                "days": f.days,
            })
        })
        .collect();
    serde_json::Value::Array(fields).to_string()
}

/// A group the editor edits in place: one level, plain conditions inside.
fn editable_group(c: &RuleClause) -> Option<&SegmentRule> {
    c.rule
        .as_deref()
        .filter(|r| c.field == "group" && r.clauses.iter().all(|x| x.field != "group"))
}

fn row_view(
    ctx: &Ctx,
    c: &RuleClause,
    fields: &[EditorField],
    errors: Vec<String>,
    depth: u8,
) -> RowView {
    let spec = fields
        .iter()
        .find(|f| f.code == c.field)
        .unwrap_or(&fields[0]);
    let header = editable_group(c);
    let group = if c.field == "group" && header.is_none() {
        c.rule
            .as_deref()
            .and_then(|r| serde_json::to_string(r).ok())
            .unwrap_or_default()
    } else {
        String::new()
    };
    let opts = |items: Vec<(String, String)>, sel: &str| -> Vec<Opt> {
        items
            .into_iter()
            .map(|(code, label)| Opt {
                selected: code == sel,
                code,
                label,
            })
            .collect()
    };
    let choices = spec.choices.clone();
    // A code row with an `in` list keeps a text box, so several codes can be typed.
    let as_select = !choices.is_empty() && c.op != "in";
    RowView {
        fields: opts(
            fields
                .iter()
                .map(|f| (f.code.clone(), f.label.clone()))
                .collect(),
            &spec.code,
        ),
        ops: opts(
            spec.ops
                .iter()
                .map(|o| (o.to_string(), ctx.t(&format!("segop.{o}")).to_string()))
                .collect(),
            &c.op,
        ),
        choices: if as_select {
            opts(choices, &c.value)
        } else {
            Vec::new()
        },
        value: c.value.clone(),
        kind: spec.kind,
        days: c.days.clone(),
        days_on: spec.days,
        group,
        depth,
        group_header: header.is_some(),
        group_any: header.is_some_and(|r| r.match_ == "any"),
        group_not: c.op == "not",
        errors,
    }
}

/// The editor's rows in order with the clause path each stands for: a top-level clause is
/// `rule.clauses[i]`; an editable group's header is followed by its conditions,
/// `rule.clauses[i].rule.clauses[j]`.
fn flatten(rule: &SegmentRule) -> Vec<(String, &RuleClause, u8)> {
    let mut out = Vec::new();
    for (i, c) in rule.clauses.iter().enumerate() {
        let path = format!("rule.clauses[{i}]");
        let inner = editable_group(c);
        out.push((path.clone(), c, 0));
        for (j, x) in inner.iter().flat_map(|r| r.clauses.iter().enumerate()) {
            out.push((format!("{path}.rule.clauses[{j}]"), x, 1));
        }
    }
    out
}

/// Reads the editor's rows back into a rule. A group header row (`field` = `group`) carries
/// its joiner ("all"/"any") as value and is followed by its conditions (`depth` 1); a group
/// the editor does not edit carries its nested rule as JSON.
fn rule_from_form(form: &FormData) -> Result<SegmentRule, ()> {
    let fields = form.column("field");
    let ops = form.column("op");
    let values = form.column("value");
    let days = form.column("days");
    let depths = form.column("depth");
    if ops.len() != fields.len() || values.len() != fields.len() || days.len() != fields.len() {
        return Err(());
    }
    if !depths.is_empty() && depths.len() != fields.len() {
        return Err(());
    }
    let mut clauses: Vec<RuleClause> = Vec::with_capacity(fields.len());
    // The editable group the following depth-1 rows belong to.
    let mut open: Option<usize> = None;
    for i in 0..fields.len() {
        let mut c = RuleClause {
            field: fields[i].to_string(),
            op: ops[i].to_string(),
            value: values[i].to_string(),
            days: days[i].to_string(),
            rule: None,
        };
        let nested = depths.get(i).is_some_and(|d| *d == "1");
        let mut opens = false;
        if c.field == "group" {
            if c.value.trim_start().starts_with('{') {
                c.rule = Some(Box::new(serde_json::from_str(&c.value).map_err(|_| ())?));
            } else {
                c.rule = Some(Box::new(SegmentRule {
                    match_: if c.value == "any" { "any" } else { "all" }.into(),
                    clauses: Vec::new(),
                }));
                opens = !nested;
            }
            c.value.clear();
        }
        if nested {
            let group = open
                .and_then(|g| clauses.get_mut(g))
                .and_then(|g| g.rule.as_deref_mut())
                .ok_or(())?;
            group.clauses.push(c);
            continue;
        }
        clauses.push(c);
        open = opens.then(|| clauses.len() - 1);
    }
    Ok(SegmentRule {
        match_: if form.get("match") == Some("any") {
            "any".into()
        } else {
            "all".into()
        },
        clauses,
    })
}

fn input_from_form(form: &FormData, l: crate::i18n::Locale) -> Result<SegmentInput, UiError> {
    Ok(SegmentInput {
        name: form.get("name").unwrap_or("").to_string(),
        description: form.get("description").unwrap_or("").to_string(),
        rule: rule_from_form(form).map_err(|_| UiError::BadForm(l))?,
    })
}

/// The top-level clause an error path is about: `rule.clauses[2].value` → 2 (a nested group's
/// error belongs to the group's row).
fn clause_index(path: &str) -> Option<usize> {
    path.strip_prefix("rule.")
        .unwrap_or(path)
        .strip_prefix("clauses[")
        .and_then(|p| p.split_once(']'))
        .and_then(|(n, _)| n.parse().ok())
}

/// Splits errors into per-row messages and the rest: an error belongs to the row whose clause
/// path is the longest prefix of the error's (`rule.clauses[1].rule.clauses[0].value` → the
/// first condition of the group in clause 1).
fn split_errors(
    ctx: &Ctx,
    errors: &[ValidationError],
    paths: &[String],
) -> (Vec<Vec<String>>, Vec<(String, String)>) {
    let mut per_row = vec![Vec::new(); paths.len()];
    let mut rest = Vec::new();
    for e in errors {
        let field = if e.field.starts_with("rule.") {
            e.field.clone()
        } else {
            format!("rule.{}", e.field)
        };
        let row = paths
            .iter()
            .enumerate()
            .filter(|(_, p)| {
                field
                    .strip_prefix(p.as_str())
                    .is_some_and(|r| r.is_empty() || r.starts_with('.'))
            })
            .max_by_key(|(_, p)| p.len())
            .map(|(k, _)| k);
        match row {
            Some(n) => per_row[n].push(ctx.t(&e.code).to_string()),
            None => rest.push((e.field.clone(), ctx.t(&e.code).to_string())),
        }
    }
    (per_row, rest)
}

/// Problems in words, each naming its clause: "第 3 条条件（城市）：必填。".
fn problems(ctx: &Ctx, rule: &SegmentRule, errors: &[ValidationError]) -> Vec<String> {
    errors
        .iter()
        .map(|e| {
            let path = e.field.strip_prefix("rule.").unwrap_or(&e.field);
            match clause_index(&e.field).and_then(|n| rule.clauses.get(n).map(|c| (n, c))) {
                Some((n, c)) => ctx.tf(
                    "segment.clause_problem",
                    &[
                        ("n", &(n + 1).to_string()),
                        ("field", &ctx.t(&format!("segfield.{}", c.field))),
                        ("message", &ctx.t(&e.code)),
                    ],
                ),
                None => format!(
                    "{}: {}",
                    ctx.t(&format!(
                        "segment.{}",
                        path.split('[').next().unwrap_or(path)
                    )),
                    ctx.t(&e.code)
                ),
            }
        })
        .collect()
}

async fn editor(
    st: &AppState,
    user: &UiUser,
    id: i64,
    version: i64,
    input: &SegmentInput,
    errors: &[ValidationError],
    status: StatusCode,
) -> Result<Response, UiError> {
    let ctx = user.ctx(if id == 0 {
        "segment.new"
    } else {
        "segment.edit"
    });
    let users = user_names(st, user).await?;
    let custom = custom_fields(st, user).await?;
    let fields = editor_fields(&ctx, &users, &custom);
    let flat = flatten(&input.rule);
    let paths: Vec<String> = flat.iter().map(|f| f.0.clone()).collect();
    let (per_row, rest) = split_errors(&ctx, errors, &paths);
    let rows = flat
        .iter()
        .zip(per_row)
        .map(|((_, c, depth), e)| row_view(&ctx, c, &fields, e, *depth))
        .collect();
    let first = RuleClause {
        field: FIELDS[0].code.into(),
        op: FIELDS[0].ops[0].into(),
        ..Default::default()
    };
    let blank = row_view(&ctx, &first, &fields, Vec::new(), 0);
    let blank_child = row_view(&ctx, &first, &fields, Vec::new(), 1);
    let blank_group = row_view(
        &ctx,
        &RuleClause {
            field: "group".into(),
            op: "match".into(),
            rule: Some(Box::new(SegmentRule {
                match_: "any".into(),
                clauses: Vec::new(),
            })),
            ..Default::default()
        },
        &fields,
        Vec::new(),
        0,
    );
    let tpl = EditTpl {
        catalogue: catalogue(&ctx, &fields),
        id,
        version,
        name: input.name.clone(),
        description: input.description.clone(),
        match_any: input.rule.match_ == "any",
        rows,
        errors: rest
            .into_iter()
            .map(|(f, m)| {
                let key = format!("segment.{}", f.split('.').next().unwrap_or(&f));
                (ctx.t(&key).to_string(), m)
            })
            .collect(),
        blank,
        blank_child,
        blank_group,
        ctx,
    };
    Ok((status, render(user.locale, &tpl)).into_response())
}

/// The list of segments with sizes.
pub async fn list(State(st): State<AppState>, user: UiUser) -> Result<Response, UiError> {
    let l = user.locale;
    let saved = uc::saved_segments(&st.store, &user.actor)
        .await
        .map_err(page_err(l))?;
    let ctx = user.ctx("segment.list_title");
    let words = Words::load(&st, &user).await?;
    let tz = format::zone(st.utc_offset_hours);
    let sizes = uc::listed_sizes(&st.store, st.as_of(), &user.actor, &saved)
        .await
        .map_err(page_err(l))?;
    let mut rows = Vec::new();
    for (seg, listed) in saved.into_iter().zip(sizes) {
        rows.push(ListRow {
            summary: describe(&ctx, &seg.rule, &words),
            updated: format::datetime(seg.updated_at, tz),
            id: seg.id,
            name: seg.name,
            description: seg.description,
            size: listed.map_or(-1, |s| s.size),
            counted: listed
                .and_then(|s| s.counted_at)
                .map(|at| format::datetime(at, tz))
                .unwrap_or_default(),
        });
    }
    let tpl = ListTpl {
        can_manage: user.actor.can(Permission::ManageSegments),
        ctx,
        rows,
    };
    Ok(render(l, &tpl))
}

/// A new segment's editor (one empty row to start from; `?rfm_segment=at_risk` style links
/// from the analytics page may prefill one clause).
pub async fn new_form(
    State(st): State<AppState>,
    user: UiUser,
    q: FormData,
) -> Result<Response, UiError> {
    user.require(Permission::ManageSegments)?;
    let clause = match (q.get("field"), q.get("value")) {
        (Some(f), Some(v)) if field_spec(f).is_some() => RuleClause {
            field: f.into(),
            op: field_spec(f).map(|s| s.ops[0]).unwrap_or("eq").into(),
            value: v.into(),
            ..Default::default()
        },
        _ => RuleClause {
            field: "city".into(),
            op: "eq".into(),
            ..Default::default()
        },
    };
    let input = SegmentInput {
        rule: SegmentRule {
            match_: "all".into(),
            clauses: vec![clause],
        },
        ..Default::default()
    };
    editor(&st, &user, 0, 0, &input, &[], StatusCode::OK).await
}

/// Saves a new segment; errors come back beside their rows (422).
pub async fn create(
    State(st): State<AppState>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::ManageSegments)?;
    let input = input_from_form(&form, user.locale)?;
    match uc::create_segment(&st.store, st.as_of(), &user.actor, &input).await {
        Ok((seg, _)) => Ok(Redirect::to(&format!("/segments/{}?saved=1", seg.id)).into_response()),
        Err(e) => match api_errors(e.into()) {
            Some(errs) => {
                editor(
                    &st,
                    &user,
                    0,
                    0,
                    &input,
                    &errs,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            None => Err(UiError::Internal(user.locale, "segment create".into())),
        },
    }
}

/// A segment's page: its rule in words, its size for the reader, links to its customers and
/// its export.
pub async fn page(
    State(st): State<AppState>,
    user: UiUser,
    Path(id): Path<i64>,
    q: FormData,
) -> Result<Response, UiError> {
    let l = user.locale;
    let seg = uc::get_segment(&st.store, &user.actor, id)
        .await
        .map_err(page_err(l))?;
    let ctx = user.ctx("segment.title");
    let words = Words::load(&st, &user).await?;
    let size = uc::size_for(&st.store, st.as_of(), &user.actor, &seg)
        .await
        .map_err(page_err(l))?
        .unwrap_or(-1);
    let tpl = ViewTpl {
        summary: describe(&ctx, &seg.rule, &words),
        updated: format::datetime(seg.updated_at, format::zone(st.utc_offset_hours)),
        can_manage: user.actor.can(Permission::ManageSegments),
        can_export: user.actor.can(Permission::Export),
        flash: if q.get("saved").is_some() {
            ctx.t("segment.saved").to_string()
        } else {
            String::new()
        },
        ctx,
        seg,
        size,
    };
    Ok(render(l, &tpl))
}

/// The editor of a saved segment.
pub async fn edit_form(
    State(st): State<AppState>,
    user: UiUser,
    Path(id): Path<i64>,
) -> Result<Response, UiError> {
    user.require(Permission::ManageSegments)?;
    let seg = uc::get_segment(&st.store, &user.actor, id)
        .await
        .map_err(page_err(user.locale))?;
    let input = SegmentInput {
        name: seg.name,
        description: seg.description,
        rule: seg.rule,
    };
    editor(&st, &user, id, seg.version, &input, &[], StatusCode::OK).await
}

/// Saves changes (a stale version is shown as a conflict beside the name, nothing lost).
pub async fn update(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::ManageSegments)?;
    let version = form.version(user.locale)?;
    let input = input_from_form(&form, user.locale)?;
    match uc::update_segment(&st.store, st.as_of(), &user.actor, id, version, &input).await {
        Ok((seg, _)) => Ok(Redirect::to(&format!("/segments/{}?saved=1", seg.id)).into_response()),
        Err(e) => match api_errors(e.into()) {
            Some(errs) => {
                let status = if errs.iter().any(|e| e.code == "conflict") {
                    StatusCode::CONFLICT
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                };
                editor(&st, &user, id, version, &input, &errs, status).await
            }
            None => Err(UiError::NotFound(user.locale)),
        },
    }
}

/// Deletes a segment.
pub async fn delete(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::ManageSegments)?;
    let version = form.version(user.locale)?;
    uc::delete_segment(&st.store, &user.actor, id, version)
        .await
        .map_err(page_err(user.locale))?;
    Ok(Redirect::to("/segments").into_response())
}

/// The live size preview (htmx fragment): the size for this reader, or every problem naming
/// its clause.
pub async fn preview(
    State(st): State<AppState>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::ReadCustomers)?;
    let l = user.locale;
    let ctx = user.ctx("segment.edit");
    let rule = rule_from_form(&form).map_err(|_| UiError::BadForm(l))?;
    let tpl = match uc::preview(&st.store, st.as_of(), &user.actor, &rule).await {
        Ok(size) => PreviewTpl {
            size: Some(size),
            problems: Vec::new(),
            ctx,
        },
        Err(guanxi_app::AppError::Invalid(e)) => PreviewTpl {
            size: None,
            problems: problems(&ctx, &rule, &e.0),
            ctx,
        },
        Err(e) => return Err(page_err(l)(e)),
    };
    Ok(render(l, &tpl))
}

/// The segment's customers (in the reader's scope) as CSV; audited with the row count. Above
/// the export threshold, the list's export form (which asks a manager) instead.
pub async fn export(
    State(st): State<AppState>,
    user: UiUser,
    Path(id): Path<i64>,
) -> Result<Response, UiError> {
    match uc::export_csv(&st.store, st.as_of(), &user.actor, user.locale, id).await {
        Ok((name, body)) => Ok(crate::download::csv(&name, body)),
        // Too many for one export without approval: the list's export form asks for it.
        Err(guanxi_app::AppError::Invalid(e))
            if e.0.iter().any(|x| x.message_key == "needs_approval") =>
        {
            Ok(Redirect::to(&format!("/customers/export?segment_id={id}")).into_response())
        }
        Err(e) => Err(page_err(user.locale)(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Locale;

    fn form(rows: &[[&str; 5]], match_: &str) -> FormData {
        let mut pairs = vec![("match".to_string(), match_.to_string())];
        for r in rows {
            for (k, v) in ["depth", "field", "op", "value", "days"].iter().zip(r) {
                pairs.push((k.to_string(), v.to_string()));
            }
        }
        FormData::from_pairs(pairs)
    }

    /// "(city = 上海 or city = 北京) and not (tag = vip)": the editor's flat rows become the
    /// nested rule, and the rule flattens back to the same rows.
    #[test]
    fn group_rows_round_trip() {
        let rows = [
            ["0", "group", "match", "any", ""],
            ["1", "city", "eq", "上海", ""],
            ["1", "city", "eq", "北京", ""],
            ["0", "group", "not", "all", ""],
            ["1", "tags", "has", "vip", ""],
            ["0", "order_count", "gte", "1", "90"],
        ];
        let rule = rule_from_form(&form(&rows, "all")).unwrap();
        assert_eq!(rule.clauses.len(), 3);
        let g = rule.clauses[0].rule.as_deref().unwrap();
        assert_eq!((g.match_.as_str(), g.clauses.len()), ("any", 2));
        assert_eq!(g.clauses[1].value, "北京");
        assert_eq!(rule.clauses[1].op, "not");
        assert_eq!(
            rule.clauses[1].rule.as_deref().unwrap().clauses[0].field,
            "tags"
        );
        let flat = flatten(&rule);
        let back: Vec<(String, u8)> = flat.iter().map(|(_, c, d)| (c.field.clone(), *d)).collect();
        let want: Vec<(String, u8)> = rows
            .iter()
            .map(|r| (r[1].to_string(), if r[0] == "1" { 1 } else { 0 }))
            .collect();
        assert_eq!(back, want);
        assert_eq!(flat[2].0, "rule.clauses[0].rule.clauses[1]");
        // A condition inside a group with no group above it is a broken form, not a guess.
        assert!(rule_from_form(&form(&[["1", "city", "eq", "上海", ""]], "all")).is_err());
    }

    /// An error inside a group lands on its row, not on the group header.
    #[test]
    fn nested_errors_find_their_row() {
        let ctx = Ctx::anonymous(Locale::En, "segment.edit");
        let paths: Vec<String> = [
            "rule.clauses[0]",
            "rule.clauses[0].rule.clauses[0]",
            "rule.clauses[0].rule.clauses[1]",
            "rule.clauses[1]",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let err = |field: &str| ValidationError {
            field: field.into(),
            code: "required".into(),
            message_key: "required",
        };
        let (per_row, rest) = split_errors(
            &ctx,
            &[
                err("rule.clauses[0].rule.clauses[1].value"),
                err("rule.clauses[1].op"),
                err("rule.clauses[10].value"),
                err("name"),
            ],
            &paths,
        );
        let counts: Vec<usize> = per_row.iter().map(Vec::len).collect();
        assert_eq!(counts, [0, 0, 1, 1]);
        assert_eq!(rest.len(), 2);
    }

    #[test]
    fn every_field_and_condition_has_words() {
        for f in FIELDS {
            let key = format!("segfield.{}", f.code);
            assert!(crate::ui::text::lookup(&key).is_some(), "{key}");
            for o in f.ops {
                let key = format!("segop.{o}");
                assert!(crate::ui::text::lookup(&key).is_some(), "{key}");
            }
        }
        // Problems not tied to a row are shown under these keys.
        for k in [
            "segop.not",
            "segfield.group",
            "segment.name",
            "segment.description",
            "segment.match",
            "segment.clauses",
            "segment.version",
        ] {
            assert!(crate::ui::text::lookup(k).is_some(), "{k}");
        }
    }

    #[test]
    fn rules_read_as_sentences() {
        let rule: SegmentRule = serde_json::from_value(serde_json::json!({"clauses": [
            {"field": "city", "op": "eq", "value": "上海"},
            {"field": "rfm_segment", "op": "eq", "value": "at_risk"},
            {"field": "bought_product", "op": "bought", "value": "TEA-01", "days": 90},
            {"field": "birthday", "op": "within", "value": 7}]}))
        .expect("rule");
        let zh = Ctx::anonymous(Locale::ZhCn, "segment.title");
        assert_eq!(
            describe(&zh, &rule, &Words::default()),
            "城市 等于 上海 且 RFM 分群 等于 有流失风险 且 商品（SKU） 买过 TEA-01（近 90 天） 且 生日 在 7 天内"
        );
        let en = Ctx::anonymous(Locale::En, "segment.title");
        assert_eq!(
            describe(&en, &rule, &Words::default()),
            "City is 上海 and RFM segment is At Risk and Product (SKU) bought TEA-01 (last 90 days) and Birthday within 7 days"
        );
    }

    #[test]
    fn problems_name_their_clause() {
        let rule: SegmentRule = serde_json::from_value(serde_json::json!({"clauses": [
            {"field": "city", "op": "eq", "value": "上海"},
            {"field": "total_spend", "op": "gte", "value": "lots"}]}))
        .expect("rule");
        let en = Ctx::anonymous(Locale::En, "segment.title");
        let errs = rule
            .resolve(guanxi_domain::segment::AsOf {
                now: chrono::Utc::now(),
                today: chrono::Utc::now().date_naive(),
                utc_offset_hours: 0,
            })
            .expect_err("bad");
        assert_eq!(
            problems(&en, &rule, &errs.0),
            ["Condition 2 (Total spent (yuan)): Enter a number."]
        );
    }
}
