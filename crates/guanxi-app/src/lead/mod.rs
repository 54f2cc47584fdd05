//! Leads' use cases (issue #17). Reps enter, qualify, convert and drop leads
//! (`WorkOpportunities`), everyone who reads deals reads leads (`ReadOpportunities`),
//! managers keep the public capture forms (`ManagePipelines`). The public form itself has no
//! user: [`capture`] acts as the system, and the page in front of it throttles by address
//! and sets a honeypot.
//!
//! Conversion reuses the customer file's own use cases: the lead becomes the customer fields
//! it would create and goes through [`crate::customers::create_customer`], so the same
//! duplicate rule (a shared mobile, email or WeChat id, within the rep's scope) stops it with
//! the candidates unless the rep picks one of them or insists; the deal goes through
//! [`crate::pipeline::create`].

use chrono::Utc;
use guanxi_domain::lead::{ConvertInput, DisqualifyInput, LeadInput, LeadOrigin, LeadStatus};
use guanxi_domain::pipeline::OpportunityInput;
use guanxi_domain::role::{Actor, Permission};
use guanxi_domain::{ValidationError, ValidationErrors};
use guanxi_store::duplicates::DuplicateCandidate;
use guanxi_store::lead::{Lead, LeadFilter, LeadForm, LeadPage};
use guanxi_store::Store;

use crate::{require, AppError};

/// Most rows one lead import takes.
pub const MAX_IMPORT_ROWS: usize = 5000;

/// Enters a lead (a rep's note, an unknown caller, the API), audited.
pub async fn create(
    store: &Store,
    actor: &Actor,
    input: &LeadInput,
    origin: LeadOrigin,
) -> Result<Lead, AppError> {
    require(actor, Permission::WorkOpportunities)?;
    let l = input.validate()?;
    Ok(store.create_lead(actor, &l, origin, None).await?)
}

/// Imports leads, all or none: every row is checked first and every problem reported with
/// its row number (1 = the first data row), as `rows[<n>].<field>`.
pub async fn import(
    store: &Store,
    actor: &Actor,
    rows: &[LeadInput],
) -> Result<Vec<i64>, AppError> {
    require(actor, Permission::WorkOpportunities)?;
    if rows.is_empty() || rows.len() > MAX_IMPORT_ROWS {
        return Err(ValidationErrors::single("rows", "out_of_range").into());
    }
    let mut valid = Vec::with_capacity(rows.len());
    let mut problems = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        match r.validate() {
            Ok(v) => valid.push(v),
            Err(e) => problems.extend(e.0.into_iter().map(|x| ValidationError {
                field: format!("rows[{}].{}", i + 1, x.field),
                ..x
            })),
        }
    }
    if !problems.is_empty() {
        return Err(ValidationErrors(problems).into());
    }
    Ok(store.create_leads(actor, &valid).await?)
}

/// The capture form behind a public key, for its page: anyone may open it (it is public by
/// design); an unknown or switched-off one is a 404.
pub async fn public_form(store: &Store, key: &str) -> Result<LeadForm, AppError> {
    let form = store.lead_form_by_key(key).await?;
    if !form.active {
        return Err(guanxi_store::StoreError::NotFound.into());
    }
    Ok(form)
}

/// A lead submitted on a public form (as [`public_form`] read it for the page): stored as the
/// system, with the form's source, campaign and rep.
pub async fn capture(store: &Store, form: &LeadForm, input: &LeadInput) -> Result<Lead, AppError> {
    let mut l = input.validate()?;
    l.source = form.source.clone().or(l.source);
    l.campaign_id = form.campaign_id;
    l.owner_id = form.owner_id;
    Ok(store
        .create_lead(&Actor::system(), &l, LeadOrigin::Form, Some(form.id))
        .await?)
}

/// One lead the actor sees.
pub async fn get(store: &Store, actor: &Actor, id: i64) -> Result<Lead, AppError> {
    require(actor, Permission::ReadOpportunities)?;
    Ok(store.get_lead(actor, id).await?)
}

/// The filter a query (page or API) asks for; a bad value names its parameter.
pub fn filter_of(
    status: Option<&str>,
    owner: Option<&str>,
    before: Option<&str>,
) -> Result<LeadFilter, guanxi_domain::ValidationErrors> {
    let mut e = guanxi_domain::ValidationErrors::new();
    let status = match status.filter(|s| !s.is_empty() && *s != "all") {
        None => None,
        Some(s) => LeadStatus::parse(s)
            .map_err(|_| e.push("status", "invalid_choice"))
            .ok(),
    };
    let (mine, pool) = match owner.filter(|s| !s.is_empty()) {
        None | Some("all") => (false, false),
        Some("mine") => (true, false),
        Some("pool") => (false, true),
        Some(_) => {
            e.push("owner", "invalid_choice");
            (false, false)
        }
    };
    // The same `<ms>.<id>` pair as the timeline's cursor.
    let before = match before.filter(|s| !s.is_empty()) {
        None => None,
        Some(b) => match guanxi_domain::records::TimelineCursor::parse(b) {
            Some(c) => Some((c.at_ms, c.event_id)),
            None => {
                e.push("before", "invalid_cursor");
                None
            }
        },
    };
    if e.is_empty() {
        Ok(LeadFilter {
            status,
            mine,
            pool,
            before,
        })
    } else {
        Err(e)
    }
}

/// A page of leads.
pub async fn list(store: &Store, actor: &Actor, filter: &LeadFilter) -> Result<LeadPage, AppError> {
    require(actor, Permission::ReadOpportunities)?;
    Ok(store.list_leads(actor, filter).await?)
}

/// What an open lead may already be: customers the actor sees that share its mobile, email
/// or WeChat id (the customer file's duplicate rule), and the same person's other open leads.
pub async fn matches(
    store: &Store,
    actor: &Actor,
    lead: &Lead,
) -> Result<(Vec<DuplicateCandidate>, Vec<Lead>), AppError> {
    require(actor, Permission::ReadOpportunities)?;
    let fields = lead
        .input()
        .customer_fields(lead.origin(), lead.owner_id, actor.id, Utc::now());
    let customers = match fields.validate(actor.id, Utc::now()) {
        Ok(valid) => store.duplicate_candidates(actor, &valid).await?,
        Err(_) => Vec::new(),
    };
    let leads = store.same_person_leads(actor, lead).await?;
    Ok((customers, leads))
}

/// Qualifies a new lead (and takes it when nobody owned it).
pub async fn qualify(
    store: &Store,
    actor: &Actor,
    id: i64,
    version: i64,
) -> Result<Lead, AppError> {
    require(actor, Permission::WorkOpportunities)?;
    Ok(store.qualify_lead(actor, id, version).await?)
}

/// Drops an open lead with its reason.
pub async fn disqualify(
    store: &Store,
    actor: &Actor,
    id: i64,
    input: &DisqualifyInput,
) -> Result<Lead, AppError> {
    require(actor, Permission::WorkOpportunities)?;
    let d = input.validate()?;
    Ok(store.disqualify_lead(actor, id, &d).await?)
}

/// Takes a disqualified lead back.
pub async fn reopen(store: &Store, actor: &Actor, id: i64, version: i64) -> Result<Lead, AppError> {
    require(actor, Permission::WorkOpportunities)?;
    Ok(store.reopen_lead(actor, id, version).await?)
}

/// Converts an open lead: into the existing customer named (one the actor sees) or a new one
/// (stopped with the candidates when it looks like a customer the actor sees, unless
/// `allow_duplicate`), then the deal if asked for. A conversion whose deal is refused keeps the
/// customer it linked, so trying again does not make a second customer.
pub async fn convert(
    store: &Store,
    actor: &Actor,
    id: i64,
    input: &ConvertInput,
) -> Result<Lead, AppError> {
    require(actor, Permission::WorkOpportunities)?;
    let mut lead = store.get_lead(actor, id).await?;
    // Whose the new customer and the deal are: the lead's rep, else the one converting it.
    let owner = lead.owner_id.or(Some(actor.id).filter(|i| *i > 0));
    if lead.version != input.version {
        return Err(guanxi_store::StoreError::Conflict {
            current: lead.version,
            updated_by: None,
        }
        .into());
    }
    if !matches!(lead.status(), LeadStatus::New | LeadStatus::Qualified) {
        return Err(ValidationErrors::single("status", "not_open").into());
    }
    // The deal is checked before anything is written.
    let deal = match &input.opportunity {
        Some(d) => {
            let name = d
                .name
                .clone()
                .filter(|n| !n.trim().is_empty())
                .or_else(|| lead.company.clone())
                .or_else(|| lead.name.clone())
                .unwrap_or_default();
            let o = OpportunityInput {
                customer_id: lead.customer_id.or(input.customer_id).unwrap_or(1),
                name,
                pipeline_id: d.pipeline_id,
                stage_id: None,
                owner_id: owner,
                amount_minor: d.amount_minor,
                currency: "CNY".into(),
                probability: None,
                expected_close: d.expected_close,
                next_step: None,
                competitors: Vec::new(),
                stated_needs: lead.message.clone(),
                latent_needs: None,
                source: lead.source.clone(),
                campaign_id: lead.campaign_id,
                lines: Vec::new(),
                version: None,
                custom: Default::default(),
            };
            Some(o.validate().map_err(|e| prefixed("opportunity", e))?)
        }
        None => None,
    };
    let customer_id = match (lead.customer_id, input.customer_id) {
        (Some(c), _) => c,
        (None, Some(c)) => {
            // An existing customer the actor sees (a 404 for one they do not).
            crate::customers::read_in_list(store, actor, c)
                .await
                .map_err(|e| match e {
                    AppError::Store(guanxi_store::StoreError::NotFound) => {
                        ValidationErrors::single("customer_id", "invalid_reference").into()
                    }
                    e => e,
                })?;
            c
        }
        (None, None) => {
            let fields = lead
                .input()
                .customer_fields(lead.origin(), owner, actor.id, Utc::now());
            crate::customers::create_customer(store, actor, fields, input.allow_duplicate)
                .await?
                .id
        }
    };
    if lead.customer_id.is_none() {
        lead = store
            .link_lead_customer(actor, id, lead.version, customer_id)
            .await?;
    }
    let opportunity = match deal {
        Some(mut o) => {
            o.customer_id = customer_id;
            Some(crate::pipeline::create(store, actor, &o).await?.id)
        }
        None => None,
    };
    Ok(store
        .finish_lead_conversion(actor, id, lead.version, opportunity)
        .await?)
}

/// Field errors of a nested input, named under `prefix`.
fn prefixed(prefix: &str, e: ValidationErrors) -> ValidationErrors {
    ValidationErrors(
        e.0.into_iter()
            .map(|x| ValidationError {
                field: format!("{prefix}.{}", x.field),
                ..x
            })
            .collect(),
    )
}

/// The capture forms.
pub async fn forms(store: &Store, actor: &Actor) -> Result<Vec<LeadForm>, AppError> {
    require(actor, Permission::ManagePipelines)?;
    Ok(store.lead_forms().await?)
}

/// Adds a capture form: a name (1–80 characters), the source its leads carry (up to 40), the
/// campaign they answer and the rep they go to.
pub async fn create_form(
    store: &Store,
    actor: &Actor,
    name: &str,
    source: Option<&str>,
    campaign_id: Option<i64>,
    owner_id: Option<i64>,
) -> Result<LeadForm, AppError> {
    require(actor, Permission::ManagePipelines)?;
    use guanxi_domain::profile::{optional_text, required_text};
    let mut e = ValidationErrors::new();
    let name = required_text(&mut e, "name", name, 80);
    let source = optional_text(&mut e, "source", source, 40);
    if !e.is_empty() {
        return Err(e.into());
    }
    Ok(store
        .create_lead_form(actor, name, source, campaign_id, owner_id)
        .await?)
}

/// Switches a capture form on or off.
pub async fn set_form_active(
    store: &Store,
    actor: &Actor,
    id: i64,
    active: bool,
) -> Result<(), AppError> {
    require(actor, Permission::ManagePipelines)?;
    Ok(store.set_lead_form_active(actor, id, active).await?)
}

/// The columns a lead import understands, by header in Chinese or English (case and spaces
/// ignored).
const HEADERS: &[(&str, &[&str])] = &[
    ("name", &["name", "姓名", "联系人"]),
    ("company", &["company", "公司", "单位", "公司名称"]),
    ("job_title", &["job_title", "title", "职位", "职务"]),
    ("mobile", &["mobile", "phone", "手机", "电话", "手机号"]),
    ("email", &["email", "邮箱", "电子邮件"]),
    ("wechat", &["wechat", "微信", "微信号"]),
    ("city", &["city", "城市"]),
    ("message", &["message", "note", "留言", "备注", "需求"]),
    ("source", &["source", "来源", "渠道"]),
];

/// Reads a CSV of leads (UTF-8, with or without a byte-order mark; the first row names the
/// columns, in Chinese or English). A file without a known column, or with a broken row, is
/// refused with where it broke; unknown columns are ignored.
pub fn rows_from_csv(bytes: &[u8]) -> Result<Vec<LeadInput>, AppError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Err(ValidationErrors::single("file", "not_utf8").into());
    };
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = r
        .headers()
        .map_err(|_| ValidationErrors::single("file", "unreadable"))?
        .clone();
    let columns: Vec<Option<&'static str>> = header
        .iter()
        .map(|h| {
            let h = h.trim().to_lowercase().replace(' ', "_");
            HEADERS
                .iter()
                .find(|(_, names)| names.contains(&h.as_str()))
                .map(|(field, _)| *field)
        })
        .collect();
    if columns.iter().all(Option::is_none) {
        return Err(ValidationErrors::single("file", "no_known_columns").into());
    }
    let mut rows = Vec::new();
    for (i, record) in r.records().enumerate() {
        let record = record
            .map_err(|_| ValidationErrors::single(format!("rows[{}]", i + 1), "unreadable"))?;
        let mut l = LeadInput::default();
        for (value, column) in record.iter().zip(&columns) {
            let v = Some(value.to_string());
            match column {
                Some("name") => l.name = v,
                Some("company") => l.company = v,
                Some("job_title") => l.job_title = v,
                Some("mobile") => l.mobile = v,
                Some("email") => l.email = v,
                Some("wechat") => l.wechat = v,
                Some("city") => l.city = v,
                Some("message") => l.message = v,
                Some("source") => l.source = v,
                _ => {}
            }
        }
        rows.push(l);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csv_with_chinese_headers_and_a_bom_reads_row_by_row() {
        let csv = "\u{feff}姓名,公司,手机,备注,无关列\n李雷,华南商贸,13800138000,要报价,x\n韩梅梅,,13900139000,,y\n";
        let rows = rows_from_csv(csv.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].company.as_deref(), Some("华南商贸"));
        assert_eq!(rows[0].message.as_deref(), Some("要报价"));
        assert_eq!(rows[1].mobile.as_deref(), Some("13900139000"));
    }

    #[test]
    fn a_file_with_no_known_column_is_refused() {
        let e = rows_from_csv(b"a,b\n1,2\n").unwrap_err();
        assert!(matches!(e, AppError::Invalid(v) if v.0[0].code == "no_known_columns"));
    }
}
