//! Files on a ticket's thread, kept in the database beside the ticket (so a backup holds them
//! and erasure reaches them). Their bytes are read only when a user opens one, and that read
//! is audited: a photo of an ID card or an invoice is as sensitive as the customer file.

use chrono::{DateTime, Utc};
use guanxi_domain::role::Actor;
use guanxi_domain::ticket::attachment::{TicketAttachment, ValidAttachment};
use serde_json::json;
use sqlx::AnyConnection;

use super::audit_ticket;
use crate::db::{from_ms, to_ms, Store};
use crate::error::{Result, StoreError};

type AttachmentRow = (i64, i64, Option<i64>, String, String, i64, i64, Option<i64>);
type AttachmentDataRow = (
    i64,
    i64,
    Option<i64>,
    String,
    String,
    i64,
    i64,
    Option<i64>,
    Vec<u8>,
);

const ATTACHMENT_COLUMNS: &str =
    "id, ticket_id, message_id, file_name, content_type, size_bytes, created_at, created_by";

fn record_of(r: AttachmentRow) -> TicketAttachment {
    let (id, ticket_id, message_id, file_name, content_type, size_bytes, at, created_by) = r;
    TicketAttachment {
        id,
        ticket_id,
        message_id,
        file_name,
        content_type,
        size_bytes,
        created_at: from_ms(at),
        created_by,
    }
}

/// Stores a message's files inside the message's transaction.
pub(crate) async fn insert(
    conn: &mut AnyConnection,
    ticket: i64,
    message: i64,
    files: &[ValidAttachment],
    user: Option<i64>,
    at: DateTime<Utc>,
) -> Result<()> {
    for f in files {
        sqlx::query(
            "INSERT INTO ticket_attachments (ticket_id, message_id, file_name, content_type, \
             size_bytes, data, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(ticket)
        .bind(message)
        .bind(&f.file_name)
        .bind(f.content_type)
        .bind(i64::try_from(f.bytes.len()).unwrap_or(i64::MAX))
        .bind(f.bytes.as_slice())
        .bind(to_ms(at))
        .bind(user)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

impl Store {
    /// A ticket's files, oldest first, without their bytes.
    pub(crate) async fn attachments_of(&self, ticket: i64) -> Result<Vec<TicketAttachment>> {
        let rows: Vec<AttachmentRow> = sqlx::query_as(&format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM ticket_attachments WHERE ticket_id = $1 ORDER BY id"
        ))
        .bind(ticket)
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().map(record_of).collect())
    }

    /// One file of a ticket the actor may see, with its bytes; the read is audited.
    pub async fn ticket_attachment(
        &self,
        actor: &Actor,
        ticket: i64,
        id: i64,
    ) -> Result<(TicketAttachment, Vec<u8>)> {
        self.ticket(actor, ticket).await?;
        let row: Option<AttachmentDataRow> = sqlx::query_as(&format!(
            "SELECT {ATTACHMENT_COLUMNS}, data FROM ticket_attachments \
             WHERE id = $1 AND ticket_id = $2"
        ))
        .bind(id)
        .bind(ticket)
        .fetch_optional(&self.read)
        .await?;
        let (a, t, m, name, kind, size, at, by, data) = row.ok_or(StoreError::NotFound)?;
        let record = record_of((a, t, m, name, kind, size, at, by));
        let mut tx = self.begin_write().await?;
        audit_ticket(
            &mut tx,
            actor,
            "attachment_read",
            ticket,
            json!({"attachment": record.id, "file_name": record.file_name}),
        )
        .await?;
        tx.commit().await?;
        Ok((record, data))
    }
}
