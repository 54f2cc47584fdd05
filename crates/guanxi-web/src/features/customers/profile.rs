//! The customer 360° page: header with scores, the whole profile with each fact's source,
//! contact points with consent switches, relations (list and graph), upcoming anniversaries and
//! the timeline; plus the small writes made from it (contact point, interaction, task, consent).

use crate::ui::session::Submitted;
use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, Utc};
use guanxi_domain::customer::{ContactPointPatch, NewContactPoint};
use guanxi_domain::interaction::{NewInteraction, NewTask};
use guanxi_domain::profile::Anniversary;
use guanxi_domain::provenance::Provenance;
use guanxi_domain::records::{ContactPoint, Customer, TimelineCursor, TimelineItem, TimelineKind};
use guanxi_domain::role::Permission;
use guanxi_domain::vocabulary::{
    ContactKind, CustomerKind, InteractionChannel, InteractionDirection,
};
use serde_json::json;

use crate::features::customers::list::{active_names, user_names};
use crate::state::AppState;
use crate::ui::format;
use crate::ui::render;
use crate::ui::session::{
    field, optional_field, page_err, version_field, Ctx, FormData, Typed, UiError, UiUser,
};
use guanxi_domain::ValidationErrors;

/// Timeline entries shown at first and per "older" click.
pub const TIMELINE_PAGE: i64 = 50;
/// How far ahead anniversaries are announced.
const ANNIVERSARY_DAYS: i64 = 60;

struct Header {
    id: i64,
    name: String,
    pinyin: String,
    kind: &'static str,
    stage: &'static str,
    tier: String,
    owner: String,
    tags: Vec<String>,
}

/// A contact point as shown (and re-rendered after a consent switch).
pub struct ContactView {
    id: i64,
    kind: &'static str,
    /// As shown: a phone in one shape however it was typed.
    value: String,
    /// As the customer gave it (hover text).
    typed: String,
    label: String,
    primary: bool,
    consent: bool,
    version: i64,
    source: String,
    error: &'static str,
}

struct SectionView {
    key: &'static str,
    title: &'static str,
    facts: Vec<(&'static str, String)>,
    source: String,
}

struct RelationView {
    other_id: i64,
    other_name: String,
    text: String,
}

/// A timeline entry as shown.
pub struct ItemView {
    id: i64,
    kind: &'static str,
    kind_label: &'static str,
    code_label: String,
    iso: String,
    at: String,
    title: String,
    detail: String,
    amount: String,
    who: String,
    open_task: bool,
    done: bool,
    version: i64,
    link: String,
}

#[derive(Default)]
struct NewContactForm {
    kind: String,
    value: String,
    error: &'static str,
}

#[derive(Template)]
#[template(path = "customers/profile.html")]
struct PageTpl {
    ctx: Ctx,
    h: Header,
    flash: &'static str,
    scores: Vec<(&'static str, String)>,
    explanation: String,
    action: String,
    also_bought: Vec<String>,
    also_basis: String,
    basics: Vec<(&'static str, String)>,
    source: String,
    contacts: Vec<ContactView>,
    new_contact: NewContactForm,
    contact_kinds: Vec<&'static str>,
    sections: Vec<SectionView>,
    custom: Vec<crate::features::custom_field::ShownField>,
    relations: Vec<RelationView>,
    graph: String,
    anniversaries: Vec<(String, String, String)>,
    channels: Vec<&'static str>,
    directions: Vec<&'static str>,
    users: Vec<(i64, String)>,
    me: i64,
    tomorrow: String,
    items: Vec<ItemView>,
    older_url: String,
    merge: crate::features::merge::pages::MergeSection,
    points: crate::features::loyalty::pages::PointsSection,
    caps: crate::features::campaign::pages::CapsSection,
}

#[derive(Template)]
#[template(path = "customers/timeline_fragment.html")]
struct TimelineTpl {
    ctx: Ctx,
    items: Vec<ItemView>,
    older_url: String,
}

#[derive(Template)]
#[template(path = "customers/contact_fragment.html")]
struct ContactTpl {
    ctx: Ctx,
    cp: ContactView,
}

/// Provenance in words: "门店 · 直接 · 王芳 · 2024-03-01".
fn provenance(
    ctx: &Ctx,
    p: &Provenance,
    names: &HashMap<i64, String>,
    tz: chrono::FixedOffset,
) -> String {
    let mut parts = vec![
        ctx.label("source_channel", p.channel.as_str()),
        ctx.t(if p.direct {
            "source.direct"
        } else {
            "source.indirect"
        })
        .to_string(),
    ];
    if let Some(n) = p.collected_by.and_then(|u| names.get(&u)) {
        parts.push(n.clone());
    }
    if let Some(at) = p.collected_at {
        parts.push(format::date(at, tz));
    }
    parts.join(" · ")
}

/// An anniversary as the page writes it (`农历 03-05`, `1985-03-05`).
pub(crate) fn anniversary_text(ctx: &Ctx, a: &Anniversary) -> String {
    let md = format!("{:02}-{:02}", a.month, a.day);
    let d = match a.year {
        Some(y) => format!("{y}-{md}"),
        None => md,
    };
    if a.lunar {
        format!("{} {d}", ctx.t("anniversary.lunar"))
    } else {
        d
    }
}

/// "today" or "in 3 days": how near a date is, as the 360 page and the care list say it.
pub(crate) fn days_text(ctx: &Ctx, days: i64) -> String {
    match days {
        0 => ctx.t("anniversary.today").to_string(),
        d => ctx.tf("anniversary.in_days", &[("n", &d.to_string())]),
    }
}

/// Days until the next occurrence, solar or lunar ([`Anniversary::next_occurrence`]).
fn days_until(a: &Anniversary, today: NaiveDate) -> Option<i64> {
    a.next_occurrence(today).map(|d| (d - today).num_days())
}

fn contact_view(
    ctx: &Ctx,
    cp: &ContactPoint,
    names: &HashMap<i64, String>,
    tz: chrono::FixedOffset,
) -> ContactView {
    ContactView {
        id: cp.id,
        kind: cp.kind.as_str(),
        value: crate::features::customers::list::shown_value(cp),
        typed: cp.value.clone(),
        label: cp.label.clone().unwrap_or_default(),
        primary: cp.is_primary,
        consent: cp.consent_marketing,
        version: cp.meta.version,
        source: provenance(ctx, &cp.source, names, tz),
        error: "",
    }
}

fn join(v: &[String]) -> String {
    v.join("、")
}

fn years(from: Option<i32>, to: Option<i32>) -> String {
    match (from, to) {
        (None, None) => String::new(),
        (f, t) => format!(
            "{}–{}",
            f.map(|y| y.to_string()).unwrap_or_default(),
            t.map(|y| y.to_string()).unwrap_or_default()
        ),
    }
}

fn push(facts: &mut Vec<(&'static str, String)>, key: &'static str, v: Option<String>) {
    if let Some(v) = v.filter(|v| !v.trim().is_empty()) {
        facts.push((key, v));
    }
}

/// The profile (or company) sections that hold facts, as "title (n)", for comparing two
/// records at a glance.
pub(crate) fn section_summary(ctx: &Ctx, c: &Customer) -> String {
    sections(ctx, c, &HashMap::new(), format::zone(0))
        .into_iter()
        .filter(|s| !s.facts.is_empty())
        .map(|s| format!("{} ({})", ctx.t(s.title), s.facts.len()))
        .collect::<Vec<_>>()
        .join("、")
}

/// The profile sections of an individual or a company, each with its recorded source.
fn sections(
    ctx: &Ctx,
    c: &Customer,
    names: &HashMap<i64, String>,
    tz: chrono::FixedOffset,
) -> Vec<SectionView> {
    let src = |sources: &std::collections::BTreeMap<String, Provenance>, k: &str| {
        sources
            .get(k)
            .map(|p| provenance(ctx, p, names, tz))
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    match c.kind {
        CustomerKind::Individual => {
            let p = c.profile.clone().unwrap_or_default();
            let mut f = Vec::new();
            for e in &p.education {
                let detail = [
                    e.degree.clone(),
                    e.major.clone(),
                    Some(years(e.from_year, e.to_year)),
                ]
                .into_iter()
                .flatten()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" · ");
                f.push((
                    "profile.school",
                    format!("{} {detail}", e.school).trim().to_string(),
                ));
            }
            out.push(SectionView {
                key: "education",
                title: "section.education",
                facts: f,
                source: src(&p.sources, "education"),
            });
            let mut f = Vec::new();
            for e in &p.career {
                let detail = [e.title.clone(), Some(years(e.from_year, e.to_year))]
                    .into_iter()
                    .flatten()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" · ");
                f.push((
                    "profile.employer",
                    format!("{} {detail}", e.employer).trim().to_string(),
                ));
            }
            out.push(SectionView {
                key: "career",
                title: "section.career",
                facts: f,
                source: src(&p.sources, "career"),
            });
            let mut f = Vec::new();
            if let Some(fam) = &p.family {
                push(&mut f, "profile.marital_status", fam.marital_status.clone());
                push(&mut f, "profile.spouse_name", fam.spouse_name.clone());
                push(
                    &mut f,
                    "profile.spouse_birthday",
                    fam.spouse_birthday
                        .as_ref()
                        .map(|a| anniversary_text(ctx, a)),
                );
                push(
                    &mut f,
                    "profile.wedding_anniversary",
                    fam.wedding_anniversary
                        .as_ref()
                        .map(|a| anniversary_text(ctx, a)),
                );
                for ch in &fam.children {
                    let mut s = ch.name.clone();
                    if let Some(b) = &ch.birthday {
                        s.push_str(&format!(" ({})", anniversary_text(ctx, b)));
                    }
                    f.push(("profile.child", s));
                }
            }
            out.push(SectionView {
                key: "family",
                title: "section.family",
                facts: f,
                source: src(&p.sources, "family"),
            });
            let mut f = Vec::new();
            if let Some(l) = &p.lifestyle {
                push(&mut f, "profile.food", Some(join(&l.food)));
                push(&mut f, "profile.drinks", Some(join(&l.drinks)));
                push(&mut f, "profile.hobbies", Some(join(&l.hobbies)));
                push(
                    &mut f,
                    "profile.favourite_colour",
                    l.favourite_colour.clone(),
                );
                push(&mut f, "profile.room_preference", l.room_preference.clone());
                push(
                    &mut f,
                    "profile.temperature_preference",
                    l.temperature_preference.clone(),
                );
                push(&mut f, "profile.notes", l.notes.clone());
            }
            out.push(SectionView {
                key: "lifestyle",
                title: "section.lifestyle",
                facts: f,
                source: src(&p.sources, "lifestyle"),
            });
            let mut f = Vec::new();
            if let Some(x) = &p.personality {
                push(&mut f, "profile.traits", Some(join(&x.traits)));
                push(
                    &mut f,
                    "profile.communication_style",
                    x.communication_style.clone(),
                );
                push(&mut f, "profile.notes", x.notes.clone());
            }
            out.push(SectionView {
                key: "personality",
                title: "section.personality",
                facts: f,
                source: src(&p.sources, "personality"),
            });
        }
        CustomerKind::Company => {
            let p = c.company.clone().unwrap_or_default();
            let mut f = Vec::new();
            push(&mut f, "company.founded", p.founded.map(|d| d.to_string()));
            push(&mut f, "company.legal_form", p.legal_form.clone());
            push(
                &mut f,
                "company.size",
                p.size.map(|s| ctx.label("company_size", s.as_str())),
            );
            push(
                &mut f,
                "company.employees",
                p.employees.map(format::thousands),
            );
            push(
                &mut f,
                "company.assets",
                p.assets_minor
                    .map(|a| format::money(a, p.currency.as_deref().unwrap_or("CNY"))),
            );
            push(&mut f, "company.service_area", p.service_area.clone());
            push(&mut f, "company.traits", Some(join(&p.traits)));
            push(&mut f, "company.website", p.website.clone());
            out.push(SectionView {
                key: "company",
                title: "section.company",
                facts: f,
                source: src(&p.sources, "company"),
            });
            let mut f = Vec::new();
            push(
                &mut f,
                "company.business_status",
                p.business_status
                    .map(|s| ctx.label("business_status", s.as_str())),
            );
            push(
                &mut f,
                "company.credit_status",
                p.credit_status
                    .map(|s| ctx.label("credit_status", s.as_str())),
            );
            push(
                &mut f,
                "company.payment_terms",
                p.payment_terms_days
                    .map(|d| ctx.tf("company.days", &[("n", &d.to_string())])),
            );
            for i in &p.credit_incidents {
                let amount = i
                    .amount_minor
                    .map(|a| format!(" ({})", format::money(a, "CNY")))
                    .unwrap_or_default();
                f.push((
                    "company.credit_incident",
                    format!("{} {}{amount}", i.date, i.description),
                ));
            }
            out.push(SectionView {
                key: "credit",
                title: "section.credit",
                facts: f,
                source: src(&p.sources, "credit"),
            });
        }
    }
    out
}

/// Turns timeline entries into views.
pub fn item_views(
    ctx: &Ctx,
    items: Vec<TimelineItem>,
    names: &HashMap<i64, String>,
    tz: chrono::FixedOffset,
) -> Vec<ItemView> {
    items
        .into_iter()
        .map(|i| {
            let (kind, kind_label, vocab) = match i.kind {
                TimelineKind::Order => ("order", "timeline.order", "order_channel"),
                TimelineKind::Interaction => {
                    ("interaction", "timeline.interaction", "interaction_channel")
                }
                TimelineKind::Task => ("task", "timeline.task", "task_status"),
                TimelineKind::Ticket => ("ticket", "timeline.ticket", "ticket_event"),
                TimelineKind::Care => ("care", "timeline.care", "care_touch_kind"),
                TimelineKind::Survey => ("survey", "timeline.survey", "survey_kind"),
                TimelineKind::Tier => ("tier", "timeline.tier", "tier_change"),
                TimelineKind::Message => ("message", "timeline.message", "campaign_event"),
                TimelineKind::Opportunity => ("opportunity", "timeline.opportunity", "stage_kind"),
            };
            ItemView {
                id: i.id,
                kind,
                kind_label: ctx.t(kind_label),
                code_label: ctx.label(vocab, &i.code),
                iso: i.at.to_rfc3339(),
                at: format::datetime(i.at, tz),
                // A touch's title is its occasion's code: show the occasion's name.
                title: match (i.kind, i.title) {
                    (TimelineKind::Care, Some(code)) => {
                        match guanxi_domain::care::Occasion::parse(&code) {
                            Ok(guanxi_domain::care::Occasion::Customer(k)) => {
                                ctx.label("care_occasion", k.as_str())
                            }
                            Ok(guanxi_domain::care::Occasion::Festival(f)) => {
                                ctx.label("care_festival", f.as_str())
                            }
                            Err(_) => code,
                        }
                    }
                    (_, t) => t.unwrap_or_default(),
                },
                detail: match i.kind {
                    TimelineKind::Ticket => crate::features::ticket::pages::describe_event(
                        ctx,
                        &i.code,
                        i.detail.as_deref().unwrap_or(""),
                        names,
                    ),
                    _ => i.detail.unwrap_or_default(),
                },
                amount: match (i.amount_minor, &i.currency) {
                    (Some(a), Some(c)) => format::money(a, c),
                    _ => String::new(),
                },
                who: i
                    .user_id
                    .and_then(|u| names.get(&u).cloned())
                    .unwrap_or_default(),
                open_task: i.kind == TimelineKind::Task && i.code == "open",
                done: i.kind == TimelineKind::Task && i.code == "done",
                version: i.version.unwrap_or(0),
                link: match (i.kind, i.link_id) {
                    (TimelineKind::Ticket, Some(t)) => format!("/tickets/{t}"),
                    _ => String::new(),
                },
            }
        })
        .collect()
}

fn older_url(id: i64, items: &[TimelineItem]) -> String {
    if items.len() as i64 >= TIMELINE_PAGE {
        items
            .last()
            .map(|l| format!("/customers/{id}/timeline?cursor={}", l.cursor))
            .unwrap_or_default()
    } else {
        String::new()
    }
}

/// Reads the customer as this user may see it; unmasked ID numbers are audited like the API.
async fn load(st: &AppState, user: &UiUser, id: i64) -> Result<Customer, UiError> {
    guanxi_app::customers::read_customer(&st.store, &user.actor, id, Some("ui"))
        .await
        .map_err(|e| UiError::from_api(user.locale, e.into()))
}

/// Renders the 360 page, optionally with the add-contact form's error and a flash message.
async fn render_page(
    st: &AppState,
    user: &UiUser,
    id: i64,
    new_contact: NewContactForm,
    flash: &'static str,
    status: StatusCode,
) -> Result<Response, UiError> {
    let l = user.locale;
    let c = load(st, user, id).await?;
    let tz = format::zone(st.utc_offset_hours);
    // One read of the users: every name (authors may have left) and the active ones to pick.
    let all_users = guanxi_app::users::directory(&st.store, &user.actor)
        .await
        .map_err(page_err(l))?;
    let users = active_names(&all_users);
    let names: HashMap<i64, String> = all_users
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect();
    let ctx = user.ctx("customer.title");
    let score = guanxi_app::analytics::customer_score(&st.store, &user.actor, id)
        .await
        .map_err(page_err(l))?;
    let mut scores = Vec::new();
    let (explanation, action) = score.as_ref().map(|s| explain(&ctx, s)).unwrap_or_default();
    let also_bought = guanxi_app::analytics::also_bought(&st.store, &user.actor, id, 5)
        .await
        .map_err(page_err(l))?
        .into_iter()
        .map(|a| {
            ctx.tf(
                "also.line",
                &[
                    ("product", &a.product),
                    ("because", &a.because),
                    ("confidence", &format::percent(a.confidence)),
                    ("lift", &format!("{:.2}", a.lift)),
                ],
            )
        })
        .collect();
    let mut tier = String::new();
    if let Some(s) = &score {
        tier = s.abc_class.clone();
        scores.push((
            "scores.rfm_segment",
            ctx.label("rfm_segment", &s.rfm_segment),
        ));
        scores.push((
            "scores.rfm",
            format!("R{} F{} M{}", s.r_score, s.f_score, s.m_score),
        ));
        scores.push(("scores.value_cell", ctx.label("value_cell", &s.value_cell)));
        scores.push(("scores.activity", ctx.label("activity", &s.activity)));
        scores.push((
            "scores.recency",
            ctx.tf("scores.days_ago", &[("n", &s.recency_days.to_string())]),
        ));
        scores.push(("scores.frequency", format::thousands(s.frequency)));
        scores.push(("scores.monetary", format::money(s.monetary_minor, "CNY")));
        if let Some(v) = s.clv_minor {
            scores.push(("scores.clv", format::money(v, "CNY")));
        }
        if let Some(p) = s.p_alive {
            scores.push(("scores.p_alive", format::percent(p)));
        }
        if let Some(p) = s.churn_probability {
            let reason = s
                .churn_reason
                .as_deref()
                .map(|r| format!(" ({})", ctx.label("churn_reason", r)))
                .unwrap_or_default();
            scores.push(("scores.churn", format!("{}{reason}", format::percent(p))));
        }
        scores.push((
            "scores.computed_at",
            format::datetime(
                chrono::DateTime::from_timestamp_millis(s.computed_at).unwrap_or_default(),
                tz,
            ),
        ));
    }
    let mut basics = Vec::new();
    if c.kind == CustomerKind::Individual {
        push(
            &mut basics,
            "field.gender",
            c.gender.map(|g| ctx.label("gender", g.as_str())),
        );
        push(
            &mut basics,
            "field.birthday",
            c.birthday.as_ref().map(|a| anniversary_text(&ctx, a)),
        );
        push(&mut basics, "field.id_number", c.id_number.clone());
        push(&mut basics, "field.employer", c.employer.clone());
        push(&mut basics, "field.job_title", c.job_title.clone());
    }
    push(&mut basics, "field.industry", c.industry.clone());
    push(&mut basics, "field.province", c.province.clone());
    push(&mut basics, "field.city", c.city.clone());
    push(&mut basics, "field.address", c.address.clone());
    push(&mut basics, "field.time_zone", c.time_zone.clone());
    push(
        &mut basics,
        "field.created_at",
        Some(format::datetime(c.meta.created_at, tz)),
    );
    push(
        &mut basics,
        "field.updated_at",
        Some(format!(
            "{}{}",
            format::datetime(c.meta.updated_at, tz),
            c.meta
                .updated_by
                .and_then(|u| names.get(&u))
                .map(|n| format!(" · {n}"))
                .unwrap_or_default()
        )),
    );

    let relations_raw = guanxi_app::contacts::list_relations(&st.store, &user.actor, id)
        .await
        .map_err(page_err(l))?;
    let mut relations = Vec::new();
    // Nodes are keyed by customer id and labelled by name: two relations named 王伟 are two
    // nodes (ECharts keys a node by `id`, else by `name`, and drops a graph with a repeated key).
    let node_id = |cid: i64| format!("c{cid}");
    let mut nodes = vec![
        json!({"id": node_id(id), "name": c.name, "symbolSize": 36, "itemStyle": {"color": "#c0392b"}}),
    ];
    let mut node_links = vec![format!("/customers/{id}")];
    let mut edges = Vec::new();
    for r in &relations_raw {
        let outgoing = r.from_customer_id == id;
        let (other_id, other_name) = if outgoing {
            (r.to_customer_id, r.to_name.clone())
        } else {
            (r.from_customer_id, r.from_name.clone())
        };
        let mut text = ctx.label("relation_kind", r.kind.as_str());
        if let Some(role) = r.role {
            text.push_str(&format!(
                " · {}",
                ctx.label("principal_role", role.as_str())
            ));
        }
        if !outgoing {
            text.push_str(&format!(" ({})", ctx.t("relation.incoming")));
        }
        let link = format!("/customers/{other_id}");
        if !node_links.contains(&link) {
            nodes.push(json!({"id": node_id(other_id), "name": other_name, "symbolSize": 24}));
            node_links.push(link);
        }
        let (source, target) = if outgoing {
            (node_id(id), node_id(other_id))
        } else {
            (node_id(other_id), node_id(id))
        };
        edges.push(
            json!({"source": source, "target": target, "label": {"show": true, "formatter": text}}),
        );
        relations.push(RelationView {
            other_id,
            other_name,
            text,
        });
    }
    // The layout is settled before the first paint (a customer has a handful of relations):
    // no nodes drifting apart on screen. Names sit under their nodes, apart from the edge's
    // own label, so long company names stay readable.
    let graph = json!({
        "series": [{"type": "graph", "layout": "force", "roam": true, "label": {"show": true, "position": "bottom"},
            "edgeLabel": {"fontSize": 11, "color": "#666"},
            "force": {"repulsion": 500, "edgeLength": 160, "layoutAnimation": false}, "edgeSymbol": ["none", "arrow"],
            "data": nodes, "links": edges}],
        "links": node_links,
    })
    .to_string();

    let today = format::today(tz);
    let mut ann: Vec<(i64, String, String, String)> = Vec::new();
    let mut add = |what: String, a: &Anniversary| {
        let days = days_until(a, today);
        if days.is_none_or(|d| d <= ANNIVERSARY_DAYS) {
            let when = days.map(|d| days_text(&ctx, d)).unwrap_or_default();
            ann.push((
                days.unwrap_or(i64::MAX),
                what,
                anniversary_text(&ctx, a),
                when,
            ));
        }
    };
    if let Some(b) = &c.birthday {
        add(ctx.t("field.birthday").into(), b);
    }
    if let Some(fam) = c.profile.as_ref().and_then(|p| p.family.as_ref()) {
        if let Some(a) = &fam.wedding_anniversary {
            add(ctx.t("profile.wedding_anniversary").into(), a);
        }
        if let Some(a) = &fam.spouse_birthday {
            add(ctx.t("profile.spouse_birthday").into(), a);
        }
        for ch in &fam.children {
            if let Some(a) = &ch.birthday {
                add(format!("{} · {}", ctx.t("profile.child"), ch.name), a);
            }
        }
    }
    ann.sort_by_key(|a| a.0);

    let raw = guanxi_app::timeline::timeline(&st.store, &user.actor, id, None, TIMELINE_PAGE)
        .await
        .map_err(page_err(l))?;
    let older = older_url(id, &raw);
    let items = item_views(&ctx, raw, &names, tz);
    let contacts = c
        .contact_points
        .iter()
        .map(|cp| contact_view(&ctx, cp, &names, tz))
        .collect();
    let custom_defs = guanxi_app::custom_field::visible_fields(
        &st.store,
        &user.actor,
        guanxi_domain::custom_field::FieldEntity::Customer,
    )
    .await
    .map_err(page_err(l))?;
    let user_list: Vec<(i64, String)> = names.iter().map(|(i, n)| (*i, n.clone())).collect();
    let custom = crate::features::custom_field::shown_fields(
        custom_defs.iter().filter(|d| d.applies_to_kind(c.kind)),
        &c.custom,
        l.code(),
        &user_list,
    );
    let tpl = PageTpl {
        custom,
        h: Header {
            id,
            name: c.name.clone(),
            pinyin: c.name_pinyin.clone(),
            kind: c.kind.as_str(),
            stage: c.lifecycle_stage.as_str(),
            tier,
            owner: c
                .owner_id
                .and_then(|o| names.get(&o).cloned())
                .unwrap_or_else(|| "—".into()),
            tags: c.tags.clone(),
        },
        flash,
        scores,
        explanation,
        action,
        also_bought,
        also_basis: ctx.tf(
            "also.basis",
            &[("n", &guanxi_store::scores::PAIR_MIN_BASKETS.to_string())],
        ),
        basics,
        source: provenance(&ctx, &c.source, &names, tz),
        contacts,
        new_contact: NewContactForm {
            kind: if new_contact.kind.is_empty() {
                "mobile".into()
            } else {
                new_contact.kind
            },
            ..new_contact
        },
        contact_kinds: ContactKind::ALL.iter().map(|k| k.as_str()).collect(),
        sections: sections(&ctx, &c, &names, tz),
        relations,
        graph,
        anniversaries: ann.into_iter().map(|(_, a, b, c)| (a, b, c)).collect(),
        channels: InteractionChannel::ALL.iter().map(|k| k.as_str()).collect(),
        directions: InteractionDirection::ALL
            .iter()
            .map(|k| k.as_str())
            .collect(),
        users,
        me: user.user.id,
        tomorrow: (today + chrono::Duration::days(1)).to_string(),
        items,
        older_url: older,
        merge: crate::features::merge::pages::section(st, user, id, tz).await?,
        points: crate::features::loyalty::pages::section(st, user, &ctx, id, tz).await?,
        caps: crate::features::campaign::pages::caps_section(st, user, &ctx, id).await?,
        ctx,
    };
    Ok((status, render(l, &tpl)).into_response())
}

/// The scores in plain words: "At Risk: last bought 142 days ago, used to buy about every 30
/// days; 12 orders, ¥3,400 in total; churn risk 71%, mainly long since last purchase." and the
/// recommended action for the customer's value-matrix cell.
pub fn explain(ctx: &Ctx, s: &guanxi_store::scores::ScoreRow) -> (String, String) {
    let n = |key: &str, v: String| ctx.tf(key, &[("n", &v)]);
    let mut parts = vec![n("explain.recency", s.recency_days.to_string())];
    if s.frequency > 1 && s.typical_interval_days > 0.0 {
        parts.push(n(
            "explain.interval",
            format!("{:.0}", s.typical_interval_days.round()),
        ));
        let overdue = s.recency_days as f64 / s.typical_interval_days;
        if overdue >= 1.5 {
            parts.push(n("explain.overdue", format!("{overdue:.1}")));
        }
    }
    parts.push(ctx.tf(
        if s.frequency == 1 {
            "explain.one_order"
        } else {
            "explain.orders"
        },
        &[
            ("f", &format::thousands(s.frequency)),
            ("m", &format::money(s.monetary_minor, "CNY")),
        ],
    ));
    if s.orders_falling {
        parts.push(ctx.t("explain.falling").to_string());
    }
    if let Some(p) = s.churn_probability {
        // A reason is given only for a risk above an average customer's.
        let pct = format::percent(p);
        parts.push(match s.churn_reason.as_deref() {
            Some(r) => ctx.tf(
                "explain.churn",
                &[("reason", &ctx.label("churn_reason", r)), ("p", &pct)],
            ),
            None => ctx.tf("explain.churn_low", &[("p", &pct)]),
        });
    }
    if let Some(v) = s.clv_minor {
        parts.push(n("explain.clv", format::money(v, "CNY")));
    }
    let sep = ctx.t("explain.separator");
    let text = format!(
        "{}{}{}",
        ctx.label("rfm_segment", &s.rfm_segment),
        ctx.t("explain.colon"),
        parts.join(sep)
    );
    (text, ctx.label("value_action", &s.value_cell))
}

/// GET the 360 page.
pub async fn page(
    State(st): State<AppState>,
    user: UiUser,
    Path(id): Path<i64>,
    q: FormData,
) -> Result<Response, UiError> {
    user.require(Permission::ReadCustomers)?;
    let flash = match q.get("saved") {
        Some("customer") => "flash.saved",
        Some("interaction") => "flash.interaction_logged",
        Some("task") => "flash.task_added",
        Some("contact") => "flash.contact_added",
        Some("created") => "flash.created",
        Some("unmerged") => "flash.unmerged",
        Some("points") => "flash.points_adjusted",
        Some("points_insufficient") => "flash.points_insufficient",
        Some("points_invalid") => "flash.points_invalid",
        Some("points_redeemed") => "flash.points_redeemed",
        Some("coupon_issued") => "flash.coupon_issued",
        Some("coupon_redeemed") => "flash.coupon_redeemed",
        Some("coupon_used") => "code.coupon_used",
        Some("coupon_expired") => "code.coupon_expired",
        Some("coupon_not_yours") => "code.coupon_not_yours",
        Some("below_min_spend") => "code.below_min_spend",
        Some("limit_reached") => "code.limit_reached",
        Some("offer_inactive") => "code.offer_inactive",
        Some("order_has_coupon") => "code.order_has_coupon",
        Some("coupon_unknown") => "flash.coupon_unknown",
        Some("contact_cap") => "flash.contact_cap",
        Some("contact_cap_invalid") => "flash.contact_cap_invalid",
        _ if q.get("merged").is_some() => "flash.merged",
        _ => "",
    };
    render_page(
        &st,
        &user,
        id,
        NewContactForm::default(),
        flash,
        StatusCode::OK,
    )
    .await
}

/// Older timeline entries (htmx fragment, or a full page without JavaScript).
pub async fn older(
    State(st): State<AppState>,
    user: UiUser,
    Path(id): Path<i64>,
    q: FormData,
) -> Result<Response, UiError> {
    user.require(Permission::ReadCustomers)?;
    let l = user.locale;
    let before = q
        .get("cursor")
        .map(|c| TimelineCursor::parse(c).ok_or(UiError::BadForm(l)))
        .transpose()?;
    let raw = guanxi_app::timeline::timeline(&st.store, &user.actor, id, before, TIMELINE_PAGE)
        .await
        .map_err(page_err(l))?;
    let names: HashMap<i64, String> = user_names(&st, &user).await?.into_iter().collect();
    let tz = format::zone(st.utc_offset_hours);
    let ctx = user.ctx("customer.title");
    let tpl = TimelineTpl {
        older_url: older_url(id, &raw),
        items: item_views(&ctx, raw, &names, tz),
        ctx,
    };
    Ok(render(l, &tpl))
}

/// Adds a contact point; a bad value re-renders the page with the error beside the input.
pub async fn add_contact(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::WriteCustomers)?;
    let l = user.locale;
    let kind_code = form.get("kind").unwrap_or("").to_string();
    let value = form.get("value").unwrap_or("").to_string();
    let retry = |error: &'static str| NewContactForm {
        kind: kind_code.clone(),
        value: value.clone(),
        error,
    };
    let Ok(kind) = ContactKind::parse(&kind_code) else {
        return render_page(
            &st,
            &user,
            id,
            retry("unknown_value"),
            "",
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let new = NewContactPoint {
        kind,
        value: value.clone(),
        label: form.get("label").map(str::to_string),
        is_primary: false,
        consent_marketing: form.checked("consent"),
        source: None,
    };
    match guanxi_app::contacts::add_contact_point(&st.store, &user.actor, id, new).await {
        Ok(_) => Ok(Redirect::to(&format!("/customers/{id}?saved=contact")).into_response()),
        Err(
            guanxi_app::AppError::Invalid(e)
            | guanxi_app::AppError::Store(guanxi_store::StoreError::Invalid(e)),
        ) => {
            let code =
                e.0.first()
                    .map(|e| e.message_key)
                    .unwrap_or("validation_failed");
            render_page(
                &st,
                &user,
                id,
                retry(code),
                "",
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(guanxi_app::AppError::Store(guanxi_store::StoreError::Duplicate { .. })) => {
            render_page(&st, &user, id, retry("duplicate"), "", StatusCode::CONFLICT).await
        }
        Err(e) => Err(page_err(l)(e)),
    }
}

/// Switches marketing consent on a contact point; answers with the re-rendered row.
pub async fn toggle_consent(
    State(st): State<AppState>,
    Path(cp_id): Path<i64>,
    Typed {
        user,
        input: ConsentForm(patch),
        form,
    }: Typed<ConsentForm>,
) -> Result<Response, UiError> {
    user.require(Permission::WriteCustomers)?;
    let l = user.locale;
    let names: HashMap<i64, String> = user_names(&st, &user).await?.into_iter().collect();
    let tz = format::zone(st.utc_offset_hours);
    let ctx = user.ctx("customer.title");
    let (cp, error) = match guanxi_app::contacts::update_contact_point(
        &st.store,
        &user.actor,
        cp_id,
        patch,
    )
    .await
    {
        Ok(cp) => (cp, ""),
        Err(guanxi_app::AppError::Store(guanxi_store::StoreError::Conflict { .. })) => (
            guanxi_app::contacts::get_contact_point(&st.store, &user.actor, cp_id)
                .await
                .map_err(page_err(l))?,
            "contact.changed_elsewhere",
        ),
        Err(e) => return Err(page_err(l)(e)),
    };
    if !form.is_htmx() {
        // Without JavaScript: back to the page.
        return Ok(Redirect::to(&format!("/customers/{}", cp.customer_id)).into_response());
    }
    let mut view = contact_view(&ctx, &cp, &names, tz);
    view.error = error;
    Ok(render(l, &ContactTpl { ctx, cp: view }))
}

/// The consent switch as a contact-point change: the version last read and the new consent
/// (`consent=1` on, anything else off).
pub struct ConsentForm(pub ContactPointPatch);

impl TryFrom<&FormData> for ConsentForm {
    type Error = ValidationErrors;

    fn try_from(form: &FormData) -> Result<Self, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let version = version_field(form, &mut e);
        e.finish(|| {
            ConsentForm(ContactPointPatch {
                version: version.unwrap_or_default(),
                consent_marketing: Some(form.get("consent") == Some("1")),
                ..Default::default()
            })
        })
    }
}

/// Logs an interaction from the 360 page.
pub async fn log_interaction(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Typed { user, input, .. }: Typed<InteractionForm>,
) -> Result<Response, UiError> {
    user.require(Permission::WriteCustomers)?;
    guanxi_app::timeline::add_interaction(&st.store, &user.actor, id, input.0)
        .await
        .map_err(page_err(user.locale))?;
    Ok(Redirect::to(&format!("/customers/{id}?saved=interaction#timeline")).into_response())
}

/// The 360 page's "log an interaction" form as the domain's input: channel, optional
/// direction, subject and notes (the time is now).
pub struct InteractionForm(pub NewInteraction);

impl TryFrom<&FormData> for InteractionForm {
    type Error = ValidationErrors;

    fn try_from(form: &FormData) -> Result<Self, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let channel = field(form, &mut e, "channel", InteractionChannel::parse);
        let direction = optional_field(form, &mut e, "direction", InteractionDirection::parse);
        let purpose = optional_field(
            form,
            &mut e,
            "purpose",
            guanxi_domain::vocabulary::InteractionPurpose::parse,
        );
        e.finish(|| {
            InteractionForm(NewInteraction {
                channel: channel.unwrap_or(InteractionChannel::Phone),
                direction,
                subject: form.get("subject").unwrap_or("").to_string(),
                body: form.get("body").map(str::to_string),
                occurred_at: None,
                purpose,
            })
        })
    }
}

/// The 360 page's "add a follow-up task" form: a title, the day it is due (at 09:00 shop time,
/// which [`TaskForm::into_task`] fixes), an optional assignee and a note.
pub struct TaskForm {
    title: String,
    due: NaiveDate,
    assignee_id: Option<i64>,
    note: Option<String>,
}

impl TryFrom<&FormData> for TaskForm {
    type Error = ValidationErrors;

    fn try_from(form: &FormData) -> Result<Self, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let due = field(form, &mut e, "due", |d| {
            NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| "invalid_date")
        });
        let assignee_id = optional_field(form, &mut e, "assignee", |a| {
            a.parse().map_err(|_| "invalid_reference")
        });
        e.finish(|| TaskForm {
            title: form.get("title").unwrap_or("").to_string(),
            due: due.unwrap_or_default(),
            assignee_id,
            note: form.get("note").map(str::to_string),
        })
    }
}

impl TaskForm {
    /// The task, due at 09:00 on the chosen day in the shop's time zone.
    pub fn into_task(self, tz: chrono::FixedOffset) -> Result<NewTask, ValidationErrors> {
        let due = self
            .due
            .and_hms_opt(9, 0, 0)
            .and_then(|d| d.and_local_timezone(tz).single())
            .ok_or_else(|| ValidationErrors::single("due", "invalid_date"))?;
        Ok(NewTask {
            title: self.title,
            due_at: due.with_timezone(&Utc),
            assignee_id: self.assignee_id,
            note: self.note,
        })
    }
}

/// Adds a follow-up task from the 360 page (due at 09:00 shop time on the chosen day).
pub async fn add_task(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Typed { user, input, .. }: Typed<TaskForm>,
) -> Result<Response, UiError> {
    user.require(Permission::WriteCustomers)?;
    let l = user.locale;
    let new = input
        .into_task(format::zone(st.utc_offset_hours))
        .map_err(|e| page_err(l)(guanxi_app::AppError::Invalid(e)))?;
    guanxi_app::timeline::add_task(&st.store, &user.actor, id, new)
        .await
        .map_err(page_err(l))?;
    Ok(Redirect::to(&format!("/customers/{id}?saved=task#timeline")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Locale;

    fn row() -> guanxi_store::scores::ScoreRow {
        guanxi_store::scores::ScoreRow {
            customer_id: 1,
            recency_days: 142,
            frequency: 12,
            monetary_minor: 340_000,
            r_score: 1,
            f_score: 4,
            m_score: 4,
            rfm_segment: "at_risk".into(),
            value_cell: "frequent".into(),
            abc_class: "B".into(),
            activity: "dormant".into(),
            typical_interval_days: 30.2,
            orders_falling: true,
            clv_minor: Some(51_000),
            p_alive: Some(0.31),
            expected_purchases: Some(1.2),
            churn_probability: Some(0.714),
            churn_reason: Some("recency_days_high".into()),
            computed_at: 0,
        }
    }

    #[test]
    fn scores_in_plain_words() {
        let en = Ctx::anonymous(Locale::En, "customer.title");
        let (text, action) = explain(&en, &row());
        assert_eq!(
            text,
            "At Risk: last bought 142 days ago; used to buy about every 30 days; 4.7× their usual gap; \
             12 orders, ¥3,400.00 in total; buying less often than before; churn risk 71.4%, mainly \
             long since last purchase; expected future value ¥510.00"
        );
        assert!(action.starts_with("Raise spend per visit"));
        let zh = Ctx::anonymous(Locale::ZhCn, "customer.title");
        let (text, _) = explain(&zh, &row());
        assert!(
            text.starts_with("有流失风险：最近一次购买在 142 天前；平时约每 30 天买一次"),
            "{text}"
        );
        // One order: no interval to compare with.
        let mut one = row();
        one.frequency = 1;
        one.churn_probability = None;
        one.clv_minor = None;
        let (text, _) = explain(&en, &one);
        assert_eq!(text, "At Risk: last bought 142 days ago; 1 order, ¥3,400.00 in total; buying less often than before");
        // A risk at or below an average customer's comes without a reason.
        let mut safe = row();
        safe.churn_probability = Some(0.03);
        safe.churn_reason = None;
        let (text, _) = explain(&en, &safe);
        assert!(
            text.contains("churn risk 3.0%, no higher than an average customer's;"),
            "{text}"
        );
        let (text, _) = explain(&zh, &safe);
        assert!(text.contains("流失风险 3.0%，不高于一般客户"), "{text}");
    }
}
