//! Read models: what the store returns and the API sends. They are plain data; the rules that
//! produced them live with the input types.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::profile::{Anniversary, CompanyProfile, IndividualProfile};
use crate::provenance::Provenance;
use crate::role::Role;
use crate::vocabulary::{
    ContactKind, CustomerKind, Gender, InteractionChannel, InteractionDirection, LifecycleStage,
    OrderChannel, PrincipalRole, RelationKind,
};

/// Who created and last changed a row, and its optimistic-lock version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RowMeta {
    /// Optimistic-lock version; send it back with every update.
    pub version: i64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change time.
    pub updated_at: DateTime<Utc>,
    /// Creating user.
    pub created_by: Option<i64>,
    /// Last changing user.
    pub updated_by: Option<i64>,
}

/// A customer as stored, with contact points attached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Customer {
    /// Id.
    pub id: i64,
    /// Person or company.
    pub kind: CustomerKind,
    /// Name.
    pub name: String,
    /// Full pinyin of a Chinese name (empty otherwise).
    pub name_pinyin: String,
    /// Pinyin initials of a Chinese name (empty otherwise).
    pub name_initials: String,
    /// Gender.
    pub gender: Option<Gender>,
    /// Birthday.
    pub birthday: Option<Anniversary>,
    /// ID number, masked unless the reader may see it (`id_number_masked` says which).
    pub id_number: Option<String>,
    /// True when `id_number` was masked for this reader.
    pub id_number_masked: bool,
    /// Province.
    pub province: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Address.
    pub address: Option<String>,
    /// Own time zone (IANA), when not the shop's.
    pub time_zone: Option<String>,
    /// Employer.
    pub employer: Option<String>,
    /// Job title.
    pub job_title: Option<String>,
    /// Industry.
    pub industry: Option<String>,
    /// Lifecycle stage.
    pub lifecycle_stage: LifecycleStage,
    /// Owning user.
    pub owner_id: Option<i64>,
    /// Tags.
    pub tags: Vec<String>,
    /// Provenance of the record.
    pub source: Provenance,
    /// Extended individual profile.
    pub profile: Option<IndividualProfile>,
    /// Extended company profile.
    pub company: Option<CompanyProfile>,
    /// Contact points (not deleted).
    pub contact_points: Vec<ContactPoint>,
    /// Custom-field values the reader may see, by field code (sensitive ones masked for
    /// readers without the permission); see `CustomerFields::custom` for the shapes.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub custom: std::collections::BTreeMap<String, serde_json::Value>,
    /// Row metadata.
    #[serde(flatten)]
    pub meta: RowMeta,
}

impl Customer {
    /// The first contact point of one of `kinds`, the primary one first: the number or address
    /// a form, a list column or an export shows for the customer.
    pub fn first_contact(&self, kinds: &[ContactKind]) -> Option<&ContactPoint> {
        let mut cps: Vec<_> = self
            .contact_points
            .iter()
            .filter(|p| kinds.contains(&p.kind))
            .collect();
        cps.sort_by_key(|p| !p.is_primary);
        cps.first().copied()
    }

    /// The value of [`Customer::first_contact`] as the customer gave it, empty when there is
    /// none: what forms and exports carry.
    pub fn first_contact_value(&self, kinds: &[ContactKind]) -> String {
        self.first_contact(kinds)
            .map(|p| p.value.clone())
            .unwrap_or_default()
    }
}

/// A contact point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ContactPoint {
    /// Id.
    pub id: i64,
    /// Owning customer.
    pub customer_id: i64,
    /// Kind.
    pub kind: ContactKind,
    /// As given.
    pub value: String,
    /// Normalised (E.164, lower-case email).
    pub value_normalized: String,
    /// Label.
    pub label: Option<String>,
    /// Primary of its kind.
    pub is_primary: bool,
    /// Marketing consent.
    pub consent_marketing: bool,
    /// When consent last changed.
    pub consent_updated_at: Option<DateTime<Utc>>,
    /// Provenance.
    pub source: Provenance,
    /// Row metadata.
    #[serde(flatten)]
    pub meta: RowMeta,
}

/// A relation between two customers, with the other side's name for display.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Relation {
    /// Id.
    pub id: i64,
    /// From customer.
    pub from_customer_id: i64,
    /// To customer.
    pub to_customer_id: i64,
    /// Name of the from customer.
    pub from_name: String,
    /// Name of the to customer.
    pub to_name: String,
    /// Kind.
    pub kind: RelationKind,
    /// Principal role.
    pub role: Option<PrincipalRole>,
    /// Note.
    pub note: Option<String>,
    /// Provenance.
    pub source: Provenance,
    /// Row metadata.
    #[serde(flatten)]
    pub meta: RowMeta,
}

/// A user as others see it (never the password hash).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct User {
    /// Id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Team.
    pub team_id: Option<i64>,
    /// Sees every customer even as sales.
    pub see_all_customers: bool,
    /// UI language (`zh-CN` or `en`).
    pub locale: String,
    /// Can log in.
    pub active: bool,
    /// Row metadata.
    #[serde(flatten)]
    pub meta: RowMeta,
}

/// A team.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Team {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Version.
    pub version: i64,
}

/// An order line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OrderLine {
    /// Line number, from 1.
    pub line_no: i64,
    /// Product id.
    pub product_id: i64,
    /// SKU.
    pub sku: String,
    /// Product name.
    pub product_name: String,
    /// Quantity.
    pub quantity: i64,
    /// Unit price, minor units.
    pub unit_price_minor: i64,
    /// Line amount, minor units.
    pub amount_minor: i64,
}

/// An order with its lines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Order {
    /// Id.
    pub id: i64,
    /// Customer.
    pub customer_id: i64,
    /// When ordered.
    pub ordered_at: DateTime<Utc>,
    /// Total, minor units.
    pub total_minor: i64,
    /// ISO 4217 currency.
    pub currency: String,
    /// Channel.
    pub channel: OrderChannel,
    /// Store.
    pub store: Option<String>,
    /// External reference.
    pub external_ref: Option<String>,
    /// Lines.
    pub lines: Vec<OrderLine>,
    /// Created at.
    pub created_at: DateTime<Utc>,
}

/// One audit log entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Id.
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Acting user (none for the system).
    pub actor_id: Option<i64>,
    /// Acting user's name at the time.
    pub actor_name: String,
    /// create, update, delete, merge, export, read_sensitive, login …
    pub action: String,
    /// Entity type.
    pub entity: String,
    /// Entity id.
    pub entity_id: Option<i64>,
    /// Details: before/after for updates, counts for exports.
    pub detail: serde_json::Value,
}

/// A ranked identification hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IdentifyHit {
    /// Customer id.
    pub customer_id: i64,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: CustomerKind,
    /// City.
    pub city: Option<String>,
    /// What matched: phone, email, name, name_part, pinyin, pinyin_part, initials.
    pub matched_on: String,
    /// The matched key.
    pub matched_value: String,
    /// Score 0–100: exact phone/email 100, exact name 95, pinyin 85, initials 70, partial less.
    pub score: i64,
}

/// A recorded interaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Interaction {
    /// Id.
    pub id: i64,
    /// Customer.
    pub customer_id: i64,
    /// Channel.
    pub channel: InteractionChannel,
    /// Direction.
    pub direction: InteractionDirection,
    /// Summary.
    pub subject: String,
    /// Details.
    pub body: Option<String>,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Why it happened.
    pub purpose: Option<crate::vocabulary::InteractionPurpose>,
    /// Row metadata.
    #[serde(flatten)]
    pub meta: RowMeta,
}

/// A follow-up task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Task {
    /// Id.
    pub id: i64,
    /// Customer.
    pub customer_id: i64,
    /// What to do.
    pub title: String,
    /// Details.
    pub note: Option<String>,
    /// Due time.
    pub due_at: DateTime<Utc>,
    /// When done; none while open.
    pub done_at: Option<DateTime<Utc>>,
    /// Who does it.
    pub assignee_id: Option<i64>,
    /// Row metadata.
    #[serde(flatten)]
    pub meta: RowMeta,
}

/// What a timeline entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimelineKind {
    /// A purchase.
    Order,
    /// A contact on some channel, or a note.
    Interaction,
    /// A follow-up task (placed at its due time).
    Task,
    /// A step in a service ticket's history (opened, replied, resolved, escalated …).
    Ticket,
    /// A greeting, gift or coupon given on a care occasion (a birthday, a festival).
    Care,
    /// A satisfaction survey answered (its kind, score and comment).
    Survey,
    /// A membership tier change (joined, moved up, moved down).
    Tier,
    /// A campaign or transactional message sent, coded by the furthest response (sent,
    /// opened, clicked, unsubscribed, bounced).
    Message,
    /// A sales opportunity created or moved to a stage (coded by the stage's kind: open,
    /// won, lost); it opens the deal.
    Opportunity,
}

/// One entry on the customer timeline, newest first: orders, interactions and tasks merged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TimelineItem {
    /// What it is.
    pub kind: TimelineKind,
    /// Id within its kind.
    pub id: i64,
    /// When (order time, interaction time, task due time).
    pub at: DateTime<Utc>,
    /// Sub-type code: the order channel, the interaction channel, or `open` / `done` for tasks.
    pub code: String,
    /// Headline: interaction subject, task title, order store.
    pub title: Option<String>,
    /// Longer text: interaction body, task note.
    pub detail: Option<String>,
    /// Order total in minor units.
    pub amount_minor: Option<i64>,
    /// Order currency.
    pub currency: Option<String>,
    /// Who recorded it (interaction author, task assignee).
    pub user_id: Option<i64>,
    /// Row version (tasks: needed to mark done).
    pub version: Option<i64>,
    /// The record the entry opens when it is not the entry itself (a ticket event's ticket).
    pub link_id: Option<i64>,
    /// Where this entry sits in the customer's event stream: pass it back as `cursor` to read
    /// the entries after it (entries sharing a time are all reached, in stream order).
    pub cursor: String,
}

/// A position in a customer's event stream: the `(at, id)` of an entry. Paging "older than
/// this" by the pair, not by time alone, reaches every entry that shares a timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimelineCursor {
    /// The entry's time, milliseconds since the epoch.
    pub at_ms: i64,
    /// The entry's id in the event stream.
    pub event_id: i64,
}

impl TimelineCursor {
    /// Everything strictly before a time (the older `before=<time>` form of paging).
    pub fn before_time(at: DateTime<Utc>) -> Self {
        Self {
            at_ms: at.timestamp_millis(),
            event_id: 0,
        }
    }

    /// Reads the `<at_ms>.<event_id>` form [`TimelineCursor::encode`] writes; `None` for
    /// anything else.
    pub fn parse(s: &str) -> Option<Self> {
        let (at, id) = s.split_once('.')?;
        let at_ms = at.parse().ok()?;
        let event_id = id.parse().ok()?;
        (event_id >= 0).then_some(Self { at_ms, event_id })
    }

    /// The text form: short, URL-safe, and readable in a log.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.at_ms, self.event_id)
    }
}
