//! Leads: captured or entered, read within the owner scope plus the unassigned pool (every
//! rep sees the pool, so a lead nobody owns is not lost), qualified, disqualified with a
//! reason, reopened, and converted — linked to the customer it became and the deal it opened.
//! Every change is at the version the client read and audited.

use chrono::{DateTime, Utc};
use guanxi_domain::lead::{DisqualifyInput, LeadInput, LeadOrigin, LeadStatus};
use guanxi_domain::role::Actor;
use serde::Serialize;
use sqlx::AnyConnection;

use crate::audit::entry;
use crate::customers::push_owner_or_pool_scope;
use crate::db::{from_ms, to_ms, Store};
use crate::error::{Result, StoreError};
use crate::rows::Flag;
use crate::sql::SqlBuilder;

/// Leads one list page shows.
pub const PAGE: i64 = 50;

/// A lead as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct Lead {
    /// Id.
    pub id: i64,
    /// `new`, `qualified`, `converted` or `disqualified`.
    pub status: String,
    /// `form`, `import`, `api`, `call` or `manual`.
    pub origin: String,
    /// The person's name.
    pub name: Option<String>,
    /// Their company.
    pub company: Option<String>,
    /// Their job title.
    pub job_title: Option<String>,
    /// Mobile or phone as given.
    pub mobile: Option<String>,
    /// Email as given.
    pub email: Option<String>,
    /// WeChat id as given.
    pub wechat: Option<String>,
    /// City.
    pub city: Option<String>,
    /// What they asked.
    pub message: Option<String>,
    /// Lead source.
    pub source: Option<String>,
    /// The campaign it answered.
    pub campaign_id: Option<i64>,
    /// The form it came through.
    pub form_id: Option<i64>,
    /// The rep (none: the pool).
    pub owner_id: Option<i64>,
    /// They agreed to hear from us.
    #[sqlx(try_from = "Flag")]
    pub consent_marketing: bool,
    /// Why it was dropped.
    pub disqualify_reason: Option<String>,
    /// Notes on that.
    pub disqualify_note: Option<String>,
    /// The customer it became (or turned out to be).
    pub customer_id: Option<i64>,
    /// The deal it opened.
    pub opportunity_id: Option<i64>,
    /// When it was converted (epoch ms).
    pub converted_at: Option<i64>,
    /// Version, for changes.
    pub version: i64,
    /// Captured (epoch ms).
    pub created_at: i64,
    /// Last changed (epoch ms).
    pub updated_at: i64,
}

impl Lead {
    /// Its status.
    pub fn status(&self) -> LeadStatus {
        LeadStatus::parse(&self.status).unwrap_or(LeadStatus::New)
    }

    /// How it arrived.
    pub fn origin(&self) -> LeadOrigin {
        LeadOrigin::parse(&self.origin).unwrap_or(LeadOrigin::Manual)
    }

    /// Captured.
    pub fn created(&self) -> DateTime<Utc> {
        from_ms(self.created_at)
    }

    /// The lead as input again (what conversion turns into customer fields).
    pub fn input(&self) -> LeadInput {
        LeadInput {
            name: self.name.clone(),
            company: self.company.clone(),
            job_title: self.job_title.clone(),
            mobile: self.mobile.clone(),
            email: self.email.clone(),
            wechat: self.wechat.clone(),
            city: self.city.clone(),
            message: self.message.clone(),
            source: self.source.clone(),
            campaign_id: self.campaign_id,
            owner_id: self.owner_id,
            consent_marketing: self.consent_marketing,
        }
    }
}

const COLUMNS: &str = "l.id, l.status, l.origin, l.name, l.company, l.job_title, l.mobile, \
    l.email, l.wechat, l.city, l.message, l.source, l.campaign_id, l.form_id, l.owner_id, \
    l.consent_marketing, l.disqualify_reason, l.disqualify_note, l.customer_id, \
    l.opportunity_id, l.converted_at, l.version, l.created_at, l.updated_at";

/// Which leads a list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeadFilter {
    /// One status (all when absent).
    pub status: Option<LeadStatus>,
    /// Only the reader's own.
    pub mine: bool,
    /// Only the unassigned pool.
    pub pool: bool,
    /// Older than this `(created_at, id)` (the next page).
    pub before: Option<(i64, i64)>,
}

/// One page of leads, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LeadPage {
    /// The leads.
    pub leads: Vec<Lead>,
    /// The cursor of the next page (`<created_at>.<id>`), when there is one.
    pub next: Option<String>,
}

/// The normalised contact values of a lead (already validated).
fn normalized(l: &LeadInput) -> [Option<String>; 3] {
    let n = |kind, v: &Option<String>| {
        v.as_deref()
            .and_then(|v| guanxi_domain::contact::normalize(kind, v).ok())
            .map(|c| c.normalized)
    };
    use guanxi_domain::vocabulary::ContactKind;
    [
        n(ContactKind::Mobile, &l.mobile),
        n(ContactKind::Email, &l.email),
        n(ContactKind::Wechat, &l.wechat),
    ]
}

/// The lead `id` as the actor may see it (own scope or the pool).
async fn load(conn: &mut AnyConnection, actor: &Actor, id: i64) -> Result<Lead> {
    let mut q = SqlBuilder::new(&format!("SELECT {COLUMNS} FROM leads l WHERE l.id = "));
    q.int(id);
    push_owner_or_pool_scope(&mut q, actor, "l.owner_id");
    q.query_as()
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)
}

/// A lead at the version the client read, for a change: a stale version is a conflict.
async fn load_at(conn: &mut AnyConnection, actor: &Actor, id: i64, version: i64) -> Result<Lead> {
    let l = load(conn, actor, id).await?;
    if l.version != version {
        return Err(StoreError::Conflict {
            current: l.version,
            updated_by: None,
        });
    }
    Ok(l)
}

impl Store {
    /// Stores a lead (checked by the caller), audited. `form` names the capture form it came
    /// through; the campaign and owner must exist.
    pub async fn create_lead(
        &self,
        actor: &Actor,
        l: &LeadInput,
        origin: LeadOrigin,
        form: Option<i64>,
    ) -> Result<Lead> {
        let mut tx = self.begin_write().await?;
        let id = insert(&mut tx, actor, l, origin, form).await?;
        let made = load(&mut tx, &Actor::system(), id).await?;
        tx.commit().await?;
        Ok(made)
    }

    /// Stores many leads in one transaction (an import): all or none.
    pub async fn create_leads(&self, actor: &Actor, leads: &[LeadInput]) -> Result<Vec<i64>> {
        let mut tx = self.begin_write().await?;
        let mut ids = Vec::with_capacity(leads.len());
        for l in leads {
            ids.push(insert(&mut tx, actor, l, LeadOrigin::Import, None).await?);
        }
        tx.commit().await?;
        Ok(ids)
    }

    /// One lead the actor sees.
    pub async fn get_lead(&self, actor: &Actor, id: i64) -> Result<Lead> {
        let mut conn = self.read.acquire().await?;
        load(&mut conn, actor, id).await
    }

    /// A page of the leads the actor sees, newest first.
    pub async fn list_leads(&self, actor: &Actor, f: &LeadFilter) -> Result<LeadPage> {
        let mut q = SqlBuilder::new(&format!("SELECT {COLUMNS} FROM leads l WHERE 1 = 1"));
        if let Some(s) = f.status {
            q.push(" AND l.status = ").text(s.as_str());
        }
        if f.mine {
            q.push(" AND l.owner_id = ").int(actor.id);
        } else if f.pool {
            q.push(" AND l.owner_id IS NULL");
        }
        push_owner_or_pool_scope(&mut q, actor, "l.owner_id");
        if let Some((at, id)) = f.before {
            q.older_than("l.created_at, l.id", at, id);
        }
        q.push(" ORDER BY l.created_at DESC, l.id DESC LIMIT ")
            .int(PAGE + 1);
        let mut leads: Vec<Lead> = q.query_as().fetch_all(&self.read).await?;
        let next = if leads.len() as i64 > PAGE {
            leads.truncate(PAGE as usize);
            leads.last().map(|l| format!("{}.{}", l.created_at, l.id))
        } else {
            None
        };
        Ok(LeadPage { leads, next })
    }

    /// Other open leads (new or qualified) the actor sees with the same mobile, email or
    /// WeChat id as `lead`: the same person asking twice.
    pub async fn same_person_leads(&self, actor: &Actor, lead: &Lead) -> Result<Vec<Lead>> {
        let [m, e, w] = normalized(&lead.input());
        let mut q = SqlBuilder::new(&format!(
            "SELECT {COLUMNS} FROM leads l WHERE l.status IN ('new', 'qualified') AND l.id <> "
        ));
        q.int(lead.id).push(" AND (1 = 0");
        for (col, v) in [
            ("mobile_normalized", m),
            ("email_normalized", e),
            ("wechat_normalized", w),
        ] {
            if let Some(v) = v {
                q.push(&format!(" OR l.{col} = ")).text(v);
            }
        }
        q.push(")");
        push_owner_or_pool_scope(&mut q, actor, "l.owner_id");
        q.push(" ORDER BY l.created_at DESC, l.id DESC LIMIT 10");
        Ok(q.query_as().fetch_all(&self.read).await?)
    }

    /// Takes a new lead as worth pursuing: qualified, and the actor's when nobody owned it.
    pub async fn qualify_lead(&self, actor: &Actor, id: i64, version: i64) -> Result<Lead> {
        let mut tx = self.begin_write().await?;
        let l = load_at(&mut tx, actor, id, version).await?;
        if l.status() != LeadStatus::New {
            return Err(StoreError::invalid("status", "not_new"));
        }
        let owner = l.owner_id.or(actor.user_id());
        change(&mut tx, actor, id, "qualified", owner).await?;
        audited(
            tx,
            actor,
            id,
            "qualify_lead",
            serde_json::json!({"owner_id": owner}),
        )
        .await
    }

    /// Drops an open lead with its reason (checked by the caller).
    pub async fn disqualify_lead(
        &self,
        actor: &Actor,
        id: i64,
        d: &DisqualifyInput,
    ) -> Result<Lead> {
        let mut tx = self.begin_write().await?;
        let l = load_at(&mut tx, actor, id, d.version).await?;
        if !matches!(l.status(), LeadStatus::New | LeadStatus::Qualified) {
            return Err(StoreError::invalid("status", "not_open"));
        }
        sqlx::query(
            "UPDATE leads SET status = 'disqualified', disqualify_reason = $1, \
             disqualify_note = $2, version = version + 1, updated_at = $3, updated_by = $4 \
             WHERE id = $5",
        )
        .bind(d.reason.as_str())
        .bind(d.note.as_deref())
        .bind(to_ms(Utc::now()))
        .bind(actor.user_id())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        audited(
            tx,
            actor,
            id,
            "disqualify_lead",
            serde_json::json!({"reason": d.reason.as_str(), "note": d.note}),
        )
        .await
    }

    /// Takes a disqualified lead back (a mistake, or they called again): new again.
    pub async fn reopen_lead(&self, actor: &Actor, id: i64, version: i64) -> Result<Lead> {
        let mut tx = self.begin_write().await?;
        let l = load_at(&mut tx, actor, id, version).await?;
        if l.status() != LeadStatus::Disqualified {
            return Err(StoreError::invalid("status", "not_disqualified"));
        }
        sqlx::query(
            "UPDATE leads SET status = 'new', disqualify_reason = NULL, disqualify_note = NULL, \
             version = version + 1, updated_at = $1, updated_by = $2 WHERE id = $3",
        )
        .bind(to_ms(Utc::now()))
        .bind(actor.user_id())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        audited(tx, actor, id, "reopen_lead", serde_json::json!({})).await
    }

    /// Records the customer an open lead became or turned out to be (the first step of a
    /// conversion: a conversion whose deal then fails resumes with this customer), audited.
    pub async fn link_lead_customer(
        &self,
        actor: &Actor,
        id: i64,
        version: i64,
        customer_id: i64,
    ) -> Result<Lead> {
        let mut tx = self.begin_write().await?;
        let l = load_at(&mut tx, actor, id, version).await?;
        if !matches!(l.status(), LeadStatus::New | LeadStatus::Qualified) {
            return Err(StoreError::invalid("status", "not_open"));
        }
        sqlx::query(
            "UPDATE leads SET customer_id = $1, version = version + 1, updated_at = $2, \
             updated_by = $3 WHERE id = $4",
        )
        .bind(customer_id)
        .bind(to_ms(Utc::now()))
        .bind(actor.user_id())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        audited(
            tx,
            actor,
            id,
            "link_lead_customer",
            serde_json::json!({"customer_id": customer_id}),
        )
        .await
    }

    /// Closes a conversion: converted, with the deal it opened (if any), the actor's when
    /// nobody owned it, audited.
    pub async fn finish_lead_conversion(
        &self,
        actor: &Actor,
        id: i64,
        version: i64,
        opportunity_id: Option<i64>,
    ) -> Result<Lead> {
        let mut tx = self.begin_write().await?;
        let l = load_at(&mut tx, actor, id, version).await?;
        if l.customer_id.is_none() {
            return Err(StoreError::invalid("customer_id", "required"));
        }
        let now = to_ms(Utc::now());
        sqlx::query(
            "UPDATE leads SET status = 'converted', opportunity_id = $1, converted_at = $2, \
             owner_id = COALESCE(owner_id, $3), version = version + 1, updated_at = $2, \
             updated_by = $3 WHERE id = $4",
        )
        .bind(opportunity_id)
        .bind(now)
        .bind(actor.user_id())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        audited(
            tx,
            actor,
            id,
            "convert_lead",
            serde_json::json!({"customer_id": l.customer_id, "opportunity_id": opportunity_id}),
        )
        .await
    }
}

/// Audits a change of lead `id`, reads it back as the actor sees it and commits.
async fn audited(
    mut tx: sqlx::Transaction<'static, sqlx::Any>,
    actor: &Actor,
    id: i64,
    action: &str,
    detail: serde_json::Value,
) -> Result<Lead> {
    entry(&mut tx, actor, action, "lead", Some(id), detail).await?;
    let out = load(&mut tx, actor, id).await?;
    tx.commit().await?;
    Ok(out)
}

/// Sets a lead's status and owner, bumping its version.
async fn change(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i64,
    status: &str,
    owner: Option<i64>,
) -> Result<()> {
    sqlx::query(
        "UPDATE leads SET status = $1, owner_id = $2, version = version + 1, updated_at = $3, \
         updated_by = $4 WHERE id = $5",
    )
    .bind(status)
    .bind(owner)
    .bind(to_ms(Utc::now()))
    .bind(actor.user_id())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Inserts one lead and its audit entry in the caller's transaction.
async fn insert(
    conn: &mut AnyConnection,
    actor: &Actor,
    l: &LeadInput,
    origin: LeadOrigin,
    form: Option<i64>,
) -> Result<i64> {
    crate::users::check_active_user(conn, "owner_id", l.owner_id).await?;
    crate::campaign::check_campaign(conn, l.campaign_id).await?;
    let [m, e, w] = normalized(l);
    let now = to_ms(Utc::now());
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO leads (status, origin, name, company, job_title, mobile, mobile_normalized, \
         email, email_normalized, wechat, wechat_normalized, city, message, source, campaign_id, \
         form_id, owner_id, consent_marketing, version, created_at, updated_at, created_by, \
         updated_by) VALUES ('new', $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
         $15, $16, $17, 1, $18, $18, $19, $19) RETURNING id",
    )
    .bind(origin.as_str())
    .bind(l.name.as_deref())
    .bind(l.company.as_deref())
    .bind(l.job_title.as_deref())
    .bind(l.mobile.as_deref())
    .bind(m)
    .bind(l.email.as_deref())
    .bind(e)
    .bind(l.wechat.as_deref())
    .bind(w)
    .bind(l.city.as_deref())
    .bind(l.message.as_deref())
    .bind(l.source.as_deref())
    .bind(l.campaign_id)
    .bind(form)
    .bind(l.owner_id)
    .bind(i64::from(l.consent_marketing))
    .bind(now)
    .bind(actor.user_id())
    .fetch_one(&mut *conn)
    .await?;
    entry(
        conn,
        actor,
        "create_lead",
        "lead",
        Some(id),
        serde_json::json!({"origin": origin.as_str(), "form_id": form, "source": l.source}),
    )
    .await?;
    Ok(id)
}
