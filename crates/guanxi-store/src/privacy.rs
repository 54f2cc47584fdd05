//! Data-subject rights (PIPL art. 45 and 47, GDPR art. 15 and 17): everything held about one
//! customer in one file, and erasure.
//!
//! Erasure anonymises rather than deletes, because orders are accounting records the shop must
//! keep: the customer row stays (so each order still has its customer, and totals still add
//! up) but its name becomes `#id`, every personal field is emptied, contact points lose their
//! values, interactions and tasks lose their free text, relations and scores go, and audit
//! entries about the customer keep who did what and when but lose the before/after values. The
//! record is soft-deleted as well, so it leaves every list. Records merged into it earlier
//! (duplicates of the same person) are erased with it. The erasure itself is audited with its
//! reason.

use chrono::Utc;
use guanxi_domain::records::{AuditEntry, Customer, Interaction, Order, Relation, Task};
use guanxi_domain::role::Actor;
use serde_json::json;

use crate::audit::{record, AuditEvent, AuditRow, AUDIT_COLUMNS};
use crate::db::{to_ms, Store};
use crate::error::{Result, StoreError};
use crate::events::{project, Rows};
use crate::orders::OrderFilter;
use crate::scores::ScoreRow;
use crate::timeline::{
    InteractionRow, TaskRow, INTERACTION_COLUMNS, INTERACTION_EVENTS, TASK_COLUMNS, TASK_EVENTS,
};

/// Everything held about one customer, as handed to them on request.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Dossier {
    /// When this was put together.
    pub exported_at: chrono::DateTime<Utc>,
    /// The customer file with its contact points (unmasked: it is their own data).
    pub customer: Customer,
    /// Relations to other customers.
    pub relations: Vec<Relation>,
    /// Orders with their lines.
    pub orders: Vec<Order>,
    /// Interactions on every channel.
    pub interactions: Vec<Interaction>,
    /// Follow-up tasks about them.
    pub tasks: Vec<Task>,
    /// Service tickets with their threads (internal notes included) and histories.
    pub tickets: Vec<guanxi_domain::ticket::records::TicketDetail>,
    /// The scores last computed for them (profiling the law lets them see).
    pub scores: Option<ScoreRow>,
    /// Audit entries about them, their contact points, interactions and tasks, oldest first.
    pub audit: Vec<AuditEntry>,
}

/// What an erasure changed, for the reply and the audit entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ErasureReport {
    /// The erased customer.
    pub customer_id: i64,
    /// Contact points emptied.
    pub contact_points: u64,
    /// Interactions whose text was removed.
    pub interactions: u64,
    /// Tasks whose text was removed.
    pub tasks: u64,
    /// Service tickets whose texts were blanked (their outcomes stay for the desk's figures).
    pub tickets: u64,
    /// Relations removed.
    pub relations: u64,
    /// Audit entries whose values were removed.
    pub audit_entries: u64,
    /// Orders kept (anonymised through their customer).
    pub orders_kept: u64,
}

/// Audit entries about a customer and the records hanging off it (`$1` is the customer id).
const ABOUT_CUSTOMER: &str = "(entity = 'customer' AND entity_id = $1) \
    OR (entity = 'customer' AND entity_id IN (SELECT id FROM customers WHERE merged_into = $1)) \
    OR (entity = 'contact_point' AND entity_id IN (SELECT id FROM contact_points WHERE customer_id = $1)) \
    OR (entity = 'interaction' AND entity_id IN (SELECT id FROM interactions WHERE customer_id = $1)) \
    OR (entity = 'task' AND entity_id IN (SELECT id FROM tasks WHERE customer_id = $1)) \
    OR (entity = 'relation' AND entity_id IN (SELECT id FROM customer_relations WHERE from_customer_id = $1 OR to_customer_id = $1))";

impl Store {
    /// Everything held about a customer the actor may see.
    pub async fn dossier(&self, actor: &Actor, id: i64) -> Result<Dossier> {
        let customer = self.get_customer(actor, id).await?;
        let relations = self.list_relations(actor, id).await?;
        let mut orders = Vec::new();
        let mut cursor = None;
        loop {
            let f = OrderFilter {
                customer_id: Some(id),
                cursor,
                limit: 500,
                ..Default::default()
            };
            let page = self.list_orders(actor, &f).await?;
            orders.extend(page.items);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        let interactions: Vec<InteractionRow> = sqlx::query_as(&format!(
            "SELECT {INTERACTION_COLUMNS} FROM interactions WHERE customer_id = $1 ORDER BY occurred_at, id"
        ))
        .bind(id)
        .fetch_all(&self.read)
        .await?;
        let tasks: Vec<TaskRow> = sqlx::query_as(&format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE customer_id = $1 ORDER BY due_at, id"
        ))
        .bind(id)
        .fetch_all(&self.read)
        .await?;
        let ticket_ids: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM tickets WHERE customer_id = $1 ORDER BY id")
                .bind(id)
                .fetch_all(&self.read)
                .await?;
        let mut tickets = Vec::with_capacity(ticket_ids.len());
        for t in ticket_ids {
            // The dossier is the admin's (DataSubjectRights): every ticket, whoever's queue.
            tickets.push(self.ticket_detail(&Actor::system(), t).await?);
        }
        let audit: Vec<AuditRow> = sqlx::query_as(&format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE {ABOUT_CUSTOMER} ORDER BY at, id"
        ))
        .bind(id)
        .fetch_all(&self.read)
        .await?;
        Ok(Dossier {
            exported_at: Utc::now(),
            customer,
            relations,
            orders,
            interactions: interactions
                .into_iter()
                .map(InteractionRow::into_record)
                .collect::<Result<_>>()?,
            tasks: tasks.into_iter().map(TaskRow::into_record).collect(),
            tickets,
            scores: self.customer_score(id).await?,
            audit: audit
                .into_iter()
                .map(AuditRow::into_entry)
                .collect::<Result<_>>()?,
        })
    }

    /// Erases a customer the actor may see (see the module notes), in one transaction. The
    /// reason is required and kept in the audit log; an erased customer cannot be erased again.
    pub async fn erase_customer(
        &self,
        actor: &Actor,
        id: i64,
        reason: &str,
    ) -> Result<ErasureReport> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(StoreError::Invalid(
                guanxi_domain::ValidationErrors::single("reason", "required"),
            ));
        }
        let now = to_ms(Utc::now());
        let mut tx = self.begin_write().await?;
        // Deleted customers can be erased too (a request may come after a delete); only the
        // scope decides, and an erased one is gone.
        let erased: Option<(Option<i64>,)> =
            sqlx::query_as("SELECT erased_at FROM customers WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        match erased {
            None | Some((Some(_),)) => return Err(StoreError::NotFound),
            Some((None,)) => {}
        }
        let mut q = crate::sql::SqlBuilder::new("SELECT c.id FROM customers c WHERE c.id = ");
        q.int(id);
        crate::customers::push_scope(&mut q, actor);
        if q.query_as::<(i64,)>()
            .fetch_optional(&mut *tx)
            .await?
            .is_none()
        {
            return Err(StoreError::NotFound);
        }
        // Audit first: the sub-selects find the entries through rows this erasure changes.
        let audit_entries = sqlx::query(&format!(
            "UPDATE audit_log SET detail = '{{\"erased\": true}}' WHERE {ABOUT_CUSTOMER}"
        ))
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let run = |sql: &'static str| sqlx::query(sql).bind(now).bind(id);
        crate::custom_field::erase_values_in(&mut tx, id).await?;
        sqlx::query(
            "UPDATE customers SET name = '#' || CAST(id AS TEXT), name_pinyin = '', name_initials = '', \
             name_sort = '0', gender = NULL, birthday = NULL, birthday_lunar = $3, id_number = NULL, \
             province = NULL, city = NULL, address = NULL, employer = NULL, job_title = NULL, \
             industry = NULL, tags = '[]', profile = NULL, company = NULL, \
             deleted_at = COALESCE(deleted_at, $1), erased_at = $1, version = version + 1, updated_at = $1 \
             WHERE id = $2 OR merged_into = $2",
        )
        .bind(now)
        .bind(id)
        .bind(false)
        .execute(&mut *tx)
        .await?;
        let contact_points = run(
            "UPDATE contact_points SET value_raw = '', value_normalized = '', label = NULL, \
             consent_marketing = $3, deleted_at = COALESCE(deleted_at, $1), updated_at = $1, \
             version = version + 1 WHERE customer_id = $2",
        )
        .bind(false)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let interactions = run(
            "UPDATE interactions SET subject = '-', body = NULL, updated_at = $1, version = version + 1 \
             WHERE customer_id = $2",
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let tasks = run(
            "UPDATE tasks SET title = '-', note = NULL, done_at = COALESCE(done_at, $1), updated_at = $1, \
             version = version + 1 WHERE customer_id = $2",
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        // Service tickets: the subject, the customer's and the agents' words, the contact
        // details, remedy and resolution texts go; kinds, categories, times and outcomes stay
        // for the desk's figures, as orders stay for the shop's.
        let tickets = run(
            "UPDATE tickets SET subject = '-', contact_name = NULL, contact_address = NULL, \
             remedy_detail = NULL, resolution_text = NULL, product_sku = NULL, updated_at = $1, \
             version = version + 1 WHERE customer_id = $2",
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query(
            "UPDATE ticket_messages SET body = '-' WHERE ticket_id IN \
             (SELECT id FROM tickets WHERE customer_id = $1)",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        // Files are content (photos, invoices, voice notes): they go whole.
        sqlx::query(
            "DELETE FROM ticket_attachments WHERE ticket_id IN \
             (SELECT id FROM tickets WHERE customer_id = $1)",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE ticket_events SET detail = NULL WHERE customer_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE calls SET caller = '-' WHERE customer_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        project(&mut tx, &INTERACTION_EVENTS, Rows::Customer(id)).await?;
        project(&mut tx, &TASK_EVENTS, Rows::Customer(id)).await?;
        project(&mut tx, &crate::ticket::TICKET_EVENTS, Rows::Customer(id)).await?;
        // Sales opportunities: amounts, stages and dates stay for the pipeline's figures; what
        // was written about the customer (needs, next step, the loss's note) goes.
        sqlx::query(
            "UPDATE opportunities SET stated_needs = NULL, latent_needs = NULL, next_step = NULL, \
             lost_note = NULL, version = version + 1 WHERE customer_id = $1",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        // Imports: what an update replaced (kept for its undo) goes, and so do the uploaded
        // files that held them (they cannot be cut row by row); the import stays as a count.
        sqlx::query("UPDATE import_rows SET before = NULL WHERE customer_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE imports SET file_data = $1 WHERE id IN \
             (SELECT import_id FROM import_rows WHERE customer_id = $2) OR id IN \
             (SELECT r.import_id FROM import_records r JOIN orders o ON o.id = r.record_id \
              WHERE r.kind = 'order' AND o.customer_id = $2)",
        )
        .bind(Vec::<u8>::new())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        // A key account's plan names people and what was said of them: it goes whole.
        sqlx::query("DELETE FROM key_accounts WHERE customer_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        // Leads converted into them: who they were and what they wrote go; the lead stays as a
        // count (status, source, dates) for the pipeline's figures.
        sqlx::query(
            "UPDATE leads SET name = NULL, company = NULL, job_title = NULL, mobile = NULL, \
             mobile_normalized = NULL, email = NULL, email_normalized = NULL, wechat = NULL, \
             wechat_normalized = NULL, city = NULL, message = NULL, disqualify_note = NULL, \
             version = version + 1 WHERE customer_id = $1",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        // Care: what was given stays (kind and day, for the care figures); its note goes, and
        // the dates derived from the file go with it.
        sqlx::query(
            "UPDATE care_touches SET note = NULL, version = version + 1 WHERE customer_id = $1",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM care_dates WHERE customer_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        project(
            &mut tx,
            &crate::care::list::TOUCH_EVENTS,
            Rows::Customer(id),
        )
        .await?;
        // Surveys: the ratings stay for the figures; the customer's own words go.
        let responses: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, answers FROM survey_responses WHERE customer_id = $1")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
        for (response, answers) in responses {
            let mut kept: guanxi_domain::survey::Answers =
                serde_json::from_str(&answers).unwrap_or_default();
            kept.retain(|_, a| matches!(a, guanxi_domain::survey::Answer::Rating(_)));
            sqlx::query("UPDATE survey_responses SET comment = NULL, answers = $1 WHERE id = $2")
                .bind(serde_json::to_string(&kept).unwrap_or_else(|_| "{}".into()))
                .bind(response)
                .execute(&mut *tx)
                .await?;
        }
        project(
            &mut tx,
            &crate::survey::links::SURVEY_EVENTS,
            Rows::Customer(id),
        )
        .await?;
        // Campaigns: what was sent stays counted (state, times, variant); where it went and
        // what a transactional message said go, and nothing more is sent. The suppression list
        // keeps an unsubscribed address, so it is never written to again.
        sqlx::query(
            "UPDATE outbox SET address = NULL, subject = NULL, body = NULL, secret = NULL, \
             state = CASE WHEN state IN ('queued', 'held') THEN 'cancelled' ELSE state END \
             WHERE customer_id = $1",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE outbox_events SET detail = NULL WHERE customer_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        project(
            &mut tx,
            &crate::campaign::outbox::MESSAGE_EVENTS,
            Rows::Customer(id),
        )
        .await?;
        let relations = sqlx::query(
            "DELETE FROM customer_relations WHERE from_customer_id = $1 OR to_customer_id = $1",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        for table in ["customer_tags", "customer_search_keys", "customer_scores"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE customer_id = $1"))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let (orders_kept,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM orders WHERE customer_id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
        let report = ErasureReport {
            customer_id: id,
            contact_points,
            interactions,
            tasks,
            tickets,
            relations,
            audit_entries,
            orders_kept: orders_kept as u64,
        };
        record(
            &mut tx,
            actor,
            AuditEvent {
                action: "erase",
                entity: "customer",
                entity_id: Some(id),
                detail: json!({"reason": reason, "report": report}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(report)
    }
}
