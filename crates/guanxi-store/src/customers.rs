//! The customer repository: create, read, update (optimistic locking), soft delete and
//! list with filters and keyset pagination, always within the actor's record scope.

use chrono::Utc;
use guanxi_domain::customer::{CustomerPatch, ValidContactPoint, ValidCustomer};
use guanxi_domain::name::CustomerName;
use guanxi_domain::records::Customer;
use guanxi_domain::role::{Actor, RecordScope};
use guanxi_domain::vocabulary::{ContactKind, CustomerKind, LifecycleStage, SourceChannel};
use guanxi_domain::ValidationErrors;
use serde_json::json;
use sqlx::{AnyConnection, Row};

use crate::audit::{bad_cursor, diff, record, AuditEvent};
use crate::cells::{placeholders, Cell};
use crate::custom_field::CustomChange;
use crate::db::{to_ms, Store};
use crate::error::{Result, StoreError};
use crate::rows::{ContactRow, CustomerRow, CONTACT_COLUMNS, CUSTOMER_COLUMNS};
use crate::sql::{decode_cursor, encode_cursor, Arg, Page, SqlBuilder};

/// Sort orders for the customer list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CustomerSort {
    /// Most recently changed first (default).
    #[default]
    UpdatedAt,
    /// Newest first.
    CreatedAt,
    /// By name.
    Name,
    /// By id.
    Id,
}

impl CustomerSort {
    /// Parses the API's `sort` parameter.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "updated_at" => Self::UpdatedAt,
            "created_at" => Self::CreatedAt,
            "name" => Self::Name,
            "id" => Self::Id,
            _ => return None,
        })
    }

    fn column(self) -> &'static str {
        match self {
            Self::UpdatedAt => "c.updated_at",
            Self::CreatedAt => "c.created_at",
            Self::Name => "c.name_sort",
            Self::Id => "c.id",
        }
    }

    fn is_text(self) -> bool {
        self == Self::Name
    }

    /// SQLite's index of the live customers in this sort's order, `(column, id, owner)`;
    /// `None` for the id, which is the table's own order. A [`ListPlan::Dense`] page without
    /// an own-column filter walks it (the plan tests check so).
    pub fn sqlite_index(self) -> Option<&'static str> {
        match self {
            Self::UpdatedAt => Some("customers_walk_updated"),
            Self::CreatedAt => Some("customers_walk_created"),
            Self::Name => Some("customers_walk_name"),
            Self::Id => None,
        }
    }

    /// The suffix of SQLite's `(filter column, sort column, id, owner)` indexes of the live
    /// customers in this sort's order (migration 0018).
    fn index_suffix(self) -> &'static str {
        match self {
            Self::UpdatedAt => "_updated",
            Self::CreatedAt => "_created",
            Self::Name => "_name",
            Self::Id => "_id",
        }
    }
}

/// How a customer-list page is read on SQLite (issue #13). Without statistics SQLite's planner
/// picks between the filter's index and the sort's index blind, and each pick is ruinous in
/// one case at a million customers: sorting all 215,000 customers of 上海 for fifty rows
/// (340 ms), or walking every customer in sort order looking for a tag nobody has (6.6 s).
/// The list counts the matches first, up to [`DENSE_MATCHES`], from the filter's index:
///
/// * **Sparse** (fewer matches): read them all by the filter's index and sort them — at most
///   that many index entries.
/// * **Dense**: walk the sort's index and keep the rows that match; with at least that many
///   matches in the book, fifty are found within about a million ÷ that many × fifty rows.
///
/// Either way a page reads at most some tens of thousands of index entries. PostgreSQL keeps
/// statistics (`Store::refresh_statistics`) and chooses by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListPlan {
    /// Read the matches by the filter's index and sort them, in two steps: sorting thousands
    /// of matches by reading each customer's row (2–5 µs a row; the rows hold the whole
    /// profile) cost more than the rest of the page, so the first step reads the sort key
    /// from an index — a filter's `(column, sort, id, owner)` index, or for a page filtered on
    /// a tag, a score or the search words only, `customers_list_keys` (id, owner and every
    /// sort key of the live customers, migration 0019) — and the second reads the page's rows.
    Sparse,
    /// Walk the sort's index and filter.
    Dense,
}

/// Where the two plans cost about the same at a million customers and pages of fifty. A
/// sparse page reads one index entry per match (about 1 µs, sort included); a dense walk
/// checks its other filters with a probe per entry walked (3–5 µs) and its matches may
/// gather at the far end of the order, so that the walk gives up and the page is read sparse
/// after all (every "zhang" sorts last by name). Up to 30,000 matches (30–40 ms) the sparse
/// page is the safer cost.
pub const DENSE_MATCHES: i64 = 30_000;

/// The same crossing for a page filtered on custom fields only. A dense walk's probe of
/// `custom_values` is covered by its `(record_id, field_id)` index (the table's key rides
/// along), a third of a microsecond per customer walked, while a sparse page still reads each
/// match's sort key: at a million, 20,000 matches cost 32 ms sparse and 0.8 ms dense
/// (bench/custom_fields.py). From 5,000 matches, one customer in 200, the walk's window holds
/// a page.
pub const CUSTOM_DENSE_MATCHES: i64 = 5_000;

/// The index a [`ListPlan::Dense`] page walks: with a filter on one of the customer's own
/// columns, that column's `(column, sort, id)` range — every entry a match of that filter,
/// in the page's order — otherwise the sort's own index. The most selective such filter is
/// taken (a rep's own customers before a city, before a source, a stage or a kind), so the
/// walk checks the fewest rows against the remaining filters.
pub fn walk_index(f: &CustomerFilter) -> Option<String> {
    match walked_column(f) {
        Some(own) => Some(format!("customers_{}{}", own.short, f.sort.index_suffix())),
        None => f.sort.sqlite_index().map(String::from),
    }
}

/// The own-column filter whose range a dense page walks (see [`walk_index`]), if any.
fn walked_column(f: &CustomerFilter) -> Option<OwnColumn> {
    own_columns(f).into_iter().next()
}

/// A list filter on one of the customer's own columns (owner, city, source, stage, kind).
struct OwnColumn {
    /// The short name in its indexes' names (`customers_city_updated`).
    short: &'static str,
    /// The column.
    column: &'static str,
    /// The value it must equal.
    value: Arg,
}

/// The filter's own-column equalities, most selective kind first (see [`walk_index`]).
fn own_columns(f: &CustomerFilter) -> Vec<OwnColumn> {
    let text = |v: &str| Arg::Text(v.to_string());
    let own = |short, column, value| OwnColumn {
        short,
        column,
        value,
    };
    [
        f.owner_id.map(|v| own("owner", "owner_id", Arg::Int(v))),
        f.city.as_deref().map(|v| own("city", "city", text(v))),
        f.source_channel
            .map(|v| own("source", "source_channel", text(v.as_str()))),
        f.lifecycle_stage
            .map(|v| own("stage", "lifecycle_stage", text(v.as_str()))),
        f.kind.map(|v| own("kind", "kind", text(v.as_str()))),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// A list filter on another table (a tag, a score, the search words): the table with its
/// alias, its customer column, and the writer of its condition on that table's row.
struct Membership<'a> {
    table: &'static str,
    key: &'static str,
    condition: Box<dyn Fn(&mut SqlBuilder) + 'a>,
}

/// The filter's conditions on other tables (the segment's rule aside).
fn memberships(f: &CustomerFilter) -> Vec<Membership<'_>> {
    let mut out = Vec::new();
    fn scores<'a>(condition: Box<dyn Fn(&mut SqlBuilder) + 'a>) -> Membership<'a> {
        Membership {
            table: "customer_scores s",
            key: "s.customer_id",
            condition,
        }
    }
    for (col, v) in [
        ("abc_class", &f.tier),
        ("rfm_segment", &f.rfm_segment),
        ("value_cell", &f.value_cell),
    ] {
        if let Some(v) = v {
            out.push(scores(Box::new(move |q: &mut SqlBuilder| {
                q.push(&format!("s.{col} = ")).text(v.clone());
            })));
        }
    }
    if let Some((r, fs)) = f.rf {
        out.push(scores(Box::new(move |q: &mut SqlBuilder| {
            q.push("s.r_score = ")
                .int(r)
                .push(" AND s.f_score = ")
                .int(fs);
        })));
    }
    if let Some(v) = &f.tag {
        out.push(Membership {
            table: "customer_tags t",
            key: "t.customer_id",
            condition: Box::new(move |q: &mut SqlBuilder| {
                q.push("t.tag = ").text(v.clone());
            }),
        });
    }
    for (code, test) in &f.custom {
        out.push(Membership {
            table: "custom_values v",
            key: "v.record_id",
            condition: Box::new(move |q: &mut SqlBuilder| {
                crate::custom_field::push_value_condition(q, "customer", code, test);
            }),
        });
    }
    if let Some(v) =
        f.q.as_deref()
            .map(guanxi_domain::name::normalize_query)
            .filter(|s| !s.is_empty())
    {
        out.push(Membership {
            table: "customer_search_keys k",
            key: "k.customer_id",
            condition: Box::new(move |q: &mut SqlBuilder| {
                q.push("k.kind IN ")
                    .text_list(&crate::identify::KEY_KINDS.map(String::from))
                    .push(" AND k.search_key >= ")
                    .text(v.clone())
                    .push(" AND k.search_key < ")
                    .text(format!("{v}\u{10FFFF}"));
            }),
        });
    }
    out
}

/// Filters for the customer list; all optional and combined with AND.
#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    /// Owner.
    pub owner_id: Option<i64>,
    /// Lifecycle stage.
    pub lifecycle_stage: Option<LifecycleStage>,
    /// Person or company.
    pub kind: Option<CustomerKind>,
    /// City (exact).
    pub city: Option<String>,
    /// Tag.
    pub tag: Option<String>,
    /// Source channel.
    pub source_channel: Option<SourceChannel>,
    /// Name / pinyin / initials prefix.
    pub q: Option<String>,
    /// Value tier: the ABC class (`A`, `B`, `C`) from the last score refresh.
    pub tier: Option<String>,
    /// RFM segment code from the last score refresh.
    pub rfm_segment: Option<String>,
    /// Value-matrix cell from the last score refresh.
    pub value_cell: Option<String>,
    /// R and F scores (1–5 each) from the last score refresh: one cell of the RFM grid.
    pub rf: Option<(i64, i64)>,
    /// A resolved segment rule (saved or being edited): only its members.
    pub segment: Option<guanxi_domain::segment::SegmentFilter>,
    /// Custom-field conditions (field code, test), each read like a tag.
    pub custom: Vec<(String, guanxi_domain::segment::CustomTest)>,
    /// Sort column.
    pub sort: CustomerSort,
    /// Descending.
    pub desc: bool,
    /// Keyset cursor from the previous page.
    pub cursor: Option<String>,
    /// Page size (1–200).
    pub limit: i64,
}

/// Score filters must name codes the score refresh writes; anything else is a field error
/// (the API answers 400, the pages their bad-request page), never an empty list.
fn check_score_filters(f: &CustomerFilter) -> Result<()> {
    use guanxi_analytics::{rfm::Segment, value_matrix::Cell};
    let mut e = ValidationErrors::new();
    if f.tier
        .as_deref()
        .is_some_and(|t| !matches!(t, "A" | "B" | "C"))
    {
        e.push("tier", "unknown_value");
    }
    if f.rfm_segment
        .as_deref()
        .is_some_and(|v| !Segment::ALL.iter().any(|s| s.code() == v))
    {
        e.push("rfm_segment", "unknown_value");
    }
    if f.value_cell
        .as_deref()
        .is_some_and(|v| !Cell::ALL.iter().any(|c| c.code() == v))
    {
        e.push("value_cell", "unknown_value");
    }
    if f.rf
        .is_some_and(|(r, fs)| !(1..=5).contains(&r) || !(1..=5).contains(&fs))
    {
        e.push("rf", "out_of_range");
    }
    if e.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Invalid(e))
    }
}

/// Appends the actor's record scope as a condition on `c` (customers).
pub(crate) fn push_scope(q: &mut SqlBuilder, actor: &Actor) {
    push_owner_scope(q, actor, "c.owner_id");
}

/// The record-scope rule on any owner column (a customer's `owner_id`, a rollup's
/// `owner_key`): a reader limited to their own and their team's customers sees the rows of
/// those owners.
pub(crate) fn push_owner_scope(q: &mut SqlBuilder, actor: &Actor, column: &str) {
    // One `IN` over the owners (the user and their team), not `owner = me OR owner IN team`:
    // SQLite then walks the owner index instead of scanning every customer.
    if actor.scope == RecordScope::OwnAndTeam {
        match actor.team_id {
            Some(team) => {
                q.push(&format!(" AND {column} IN ("));
                push_team_owners(q, actor.id, team);
                q.push(")");
            }
            None => {
                q.push(&format!(" AND {column} = ")).int(actor.id);
            }
        }
    }
}

/// [`push_owner_scope`] that also lets in rows nobody owns yet (the leads' pool, which every
/// rep sees): `AND (col IS NULL OR 1 = 1 AND col IN (…))`.
pub(crate) fn push_owner_or_pool_scope(q: &mut SqlBuilder, actor: &Actor, column: &str) {
    if actor.scope == RecordScope::OwnAndTeam {
        q.push(&format!(" AND ({column} IS NULL OR 1 = 1"));
        push_owner_scope(q, actor, column);
        q.push(")");
    }
}

/// `SELECT id FROM users …` of a team reader's owners: the reader and their team's members.
fn push_team_owners(q: &mut SqlBuilder, reader: i64, team: i64) {
    q.push("SELECT id FROM users WHERE id = ")
        .int(reader)
        .push(" OR team_id = ")
        .int(team);
}

/// The owners whose rows the actor's record scope shows — the rule of [`push_owner_scope`]
/// read once as a list — or `None` for a reader who sees every owner. A query that repeats
/// the scope many times (the dashboard's month ranges) names the owners themselves, which
/// PostgreSQL reads as a range of the `(owner, hour)` key per owner.
pub(crate) async fn scope_owners(
    conn: &mut AnyConnection,
    actor: &Actor,
) -> Result<Option<Vec<i64>>> {
    if actor.scope != RecordScope::OwnAndTeam {
        return Ok(None);
    }
    let Some(team) = actor.team_id else {
        return Ok(Some(vec![actor.id]));
    };
    let mut q = SqlBuilder::new("");
    push_team_owners(&mut q, actor.id, team);
    q.push(" ORDER BY id");
    Ok(Some(q.query_scalar().fetch_all(&mut *conn).await?))
}

/// An update of one customer, checked and computed but not yet written: what
/// [`write_update`] and the bulk import's native writer both apply.
pub(crate) struct UpdatePlan {
    /// The customer.
    pub(crate) id: i64,
    /// The version the update expects to find (optimistic locking).
    pub(crate) expected_version: i64,
    /// The version the row had when it was read (a conflict reports the one after it).
    pub(crate) read_version: i64,
    /// [`EDITABLE_COLUMNS`] values.
    pub(crate) cells: Vec<Cell>,
    /// The new tags, when they changed.
    pub(crate) tags: Option<Vec<String>>,
    /// The customer's validated name (its search keys are rebuilt when it changed).
    pub(crate) name: CustomerName,
    /// Whether the name changed.
    pub(crate) name_changed: bool,
    /// The audit detail (the difference).
    pub(crate) detail: serde_json::Value,
    /// When.
    pub(crate) now: i64,
}

/// `UPDATE customers SET … WHERE id = … AND version = …` for an [`UpdatePlan`]'s cells
/// followed by updated_at, updated_by, id and the expected version.
pub(crate) fn update_sql() -> String {
    let n_cols = EDITABLE_COLUMNS.len();
    let set: Vec<String> = EDITABLE_COLUMNS
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} = ${}", i + 1))
        .collect();
    format!(
        "UPDATE customers SET {}, version = version + 1, updated_at = ${}, updated_by = ${} WHERE id = ${} AND version = ${}",
        set.join(", "),
        n_cols + 1,
        n_cols + 2,
        n_cols + 3,
        n_cols + 4,
    )
}

impl UpdatePlan {
    /// The cells [`update_sql`] binds, in order.
    pub(crate) fn update_cells(&self, actor: &Actor) -> Vec<Cell> {
        let mut cells = self.cells.clone();
        cells.extend([
            Cell::Int(Some(self.now)),
            Cell::Int(actor.user_id()),
            Cell::Int(Some(self.id)),
            Cell::Int(Some(self.expected_version)),
        ]);
        cells
    }

    /// The error when the row was not at the expected version.
    pub(crate) fn conflict(&self) -> StoreError {
        StoreError::Conflict {
            current: self.read_version + 1,
            updated_by: None,
        }
    }
}

/// Checks a customer's merged fields against its stored row and computes the update: kind is
/// immutable, the fields validate, the owner exists; the difference is what gets audited.
pub(crate) async fn plan_update(
    conn: &mut AnyConnection,
    actor: &Actor,
    row: &CustomerRow,
    before: guanxi_domain::customer::CustomerFields,
    merged: guanxi_domain::customer::CustomerFields,
    expected_version: i64,
    now: chrono::DateTime<Utc>,
) -> Result<(UpdatePlan, ValidCustomer)> {
    if merged.kind != before.kind {
        return Err(StoreError::Invalid(ValidationErrors::single(
            "kind",
            "immutable",
        )));
    }
    let valid = merged.validate(actor.id, now)?;
    let f = &valid.fields;
    check_owner(&mut *conn, f.owner_id).await?;
    // Provenance of the record itself is fixed at creation.
    let mut after = f.clone();
    after.source = before.source.clone();
    let plan = UpdatePlan {
        id: row.id,
        expected_version,
        read_version: row.version,
        cells: editable_cells(&valid, f.owner_id),
        tags: (f.tags != before.tags).then(|| f.tags.clone()),
        name: valid.name.clone(),
        name_changed: valid.name.as_str() != before.name,
        detail: diff(&audit_view(&before), &audit_view(&after)),
        now: to_ms(now),
    };
    Ok((plan, valid))
}

/// Writes a customer's merged fields over its stored row (optimistic on `expected_version`),
/// refreshes tags and search keys, and audits the difference. Shared by edits and by imports
/// that update an existing customer, so both validate, index and audit alike.
pub(crate) async fn write_update(
    conn: &mut AnyConnection,
    actor: &Actor,
    row: CustomerRow,
    before: guanxi_domain::customer::CustomerFields,
    merged: guanxi_domain::customer::CustomerFields,
    expected_version: i64,
    now: chrono::DateTime<Utc>,
) -> Result<()> {
    let (plan, _) = plan_update(conn, actor, &row, before, merged, expected_version, now).await?;
    let sql = update_sql();
    let n = plan
        .update_cells(actor)
        .into_iter()
        .fold(sqlx::query(&sql), |q, c| c.bind(q))
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(plan.conflict());
    }
    if let Some(tags) = &plan.tags {
        write_tags(&mut *conn, plan.id, tags).await?;
    }
    if plan.name_changed {
        rebuild_search_keys(&mut *conn, plan.id).await?;
    }
    record(
        &mut *conn,
        actor,
        AuditEvent {
            action: "update",
            entity: "customer",
            entity_id: Some(plan.id),
            detail: plan.detail,
        },
    )
    .await?;
    Ok(())
}

/// Appends a customer list's conditions (scope and every filter but the cursor) after a
/// `WHERE` that already holds one condition: the list and its count share them.
///
/// A condition on another table (tier, tag, search words …) is written as `c.id IN (…)` by
/// default, which reads that table's matches by its index first — right when they are few,
/// or on PostgreSQL, which turns either form into the same semi-join. `dense` writes them as
/// a correlated test instead (see [`Walk`]): one primary-key probe per customer walked, for
/// the [`ListPlan::Dense`] page that walks the sort's index (building the list of 300,000
/// members of a common tag first would cost more than the page).
fn push_list_filter(q: &mut SqlBuilder, actor: &Actor, f: &CustomerFilter, dense: Option<Walk>) {
    push_scope(q, actor);
    for own in own_columns(f) {
        q.push(&format!(" AND c.{} = ", own.column)).arg(own.value);
    }
    if let Some(sf) = &f.segment {
        q.push(" AND ");
        // A list page walks few customers: its purchase tests are per-customer sums.
        crate::segments::push_segment(q, sf, &crate::segments::KeptPlan::default());
    }
    for m in memberships(f) {
        if dense == Some(Walk::Probe) {
            q.push(&format!(
                " AND (SELECT 1 FROM {} WHERE {} = c.id AND ",
                m.table, m.key
            ));
            (m.condition)(q);
            q.push(" LIMIT 1) IS NOT NULL");
            continue;
        }
        if dense.is_some() {
            q.push(&format!(
                " AND EXISTS (SELECT 1 FROM {} WHERE {} = c.id AND ",
                m.table, m.key
            ));
        } else {
            q.push(&format!(
                " AND c.id IN (SELECT {} FROM {} WHERE ",
                m.key, m.table
            ));
        }
        (m.condition)(q);
        q.push(")");
    }
}

/// How a dense page's walk tests a membership (a tag, a score, a custom value) per customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Walk {
    /// `EXISTS (…)`: SQLite probes it per row of the walked index.
    Exists,
    /// A correlated `(SELECT 1 … LIMIT 1) IS NOT NULL`: PostgreSQL cannot turn it into a join,
    /// so it walks the sort's index as told. With `EXISTS` it estimated a custom value's
    /// matches blind (the field is a subquery) and read all 19,500 "gold" values and sorted
    /// them for a page sorted by name: 174 ms.
    Probe,
}

/// Loads one live customer row within scope, or NotFound.
pub(crate) async fn load_row(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i64,
) -> Result<CustomerRow> {
    let mut q = SqlBuilder::new(&format!(
        "SELECT {CUSTOMER_COLUMNS} FROM customers c WHERE c.id = "
    ));
    q.int(id).push(" AND c.deleted_at IS NULL");
    push_scope(&mut q, actor);
    q.query_as::<CustomerRow>()
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::NotFound)
}

async fn contacts_of(conn: &mut AnyConnection, ids: &[i64]) -> Result<Vec<ContactRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = SqlBuilder::new(&format!("SELECT {CONTACT_COLUMNS} FROM contact_points WHERE deleted_at IS NULL AND customer_id IN ("));
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.int(*id);
    }
    q.push(") ORDER BY customer_id, kind, is_primary DESC, id");
    Ok(q.query_as::<ContactRow>().fetch_all(conn).await?)
}

/// Attaches contact points to rows, preserving row order.
pub(crate) async fn hydrate(
    conn: &mut AnyConnection,
    rows: Vec<CustomerRow>,
) -> Result<Vec<Customer>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut contacts = contacts_of(conn, &ids).await?;
    rows.into_iter()
        .map(|r| {
            let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut contacts)
                .into_iter()
                .partition(|c| c.customer_id == r.id);
            contacts = rest;
            r.into_record(
                mine.into_iter()
                    .map(ContactRow::into_record)
                    .collect::<Result<_>>()?,
            )
        })
        .collect()
}

/// The storage form of a phone for partial lookups: national digits ("13812345678").
fn phone_key(e164: &str) -> String {
    e164.strip_prefix("+86")
        .unwrap_or(e164.trim_start_matches('+'))
        .to_string()
}

/// Rebuilds the identification keys of one customer from its name and live contact points.
pub(crate) async fn rebuild_search_keys(conn: &mut AnyConnection, customer_id: i64) -> Result<()> {
    sqlx::query("DELETE FROM customer_search_keys WHERE customer_id = $1")
        .bind(customer_id)
        .execute(&mut *conn)
        .await?;
    let name: String = sqlx::query_scalar("SELECT name FROM customers WHERE id = $1")
        .bind(customer_id)
        .fetch_one(&mut *conn)
        .await?;
    let name = CustomerName::parse(&name)
        .map_err(|_| StoreError::Corrupt(format!("customer name {customer_id}")))?;
    let contacts: Vec<(String, String)> = sqlx::query_as(
        "SELECT kind, value_normalized FROM contact_points WHERE customer_id = $1 AND deleted_at IS NULL",
    )
    .bind(customer_id)
    .fetch_all(&mut *conn)
    .await?;
    let keys = search_keys_of(
        &name,
        contacts
            .iter()
            .filter_map(|(k, v)| ContactKind::parse(k).ok().map(|k| (k, v.as_str()))),
    );
    for (key, kind) in keys {
        sqlx::query("INSERT INTO customer_search_keys (search_key, customer_id, kind) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(key)
            .bind(customer_id)
            .bind(kind)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Rewrites one customer's rows of `customer_tags` (the tag index) to `tags`.
pub(crate) async fn write_tags(
    conn: &mut AnyConnection,
    customer_id: i64,
    tags: &[String],
) -> Result<()> {
    write_tags_of(conn, &[(customer_id, tags.to_vec())]).await
}

/// Rows of `customer_tags` one INSERT writes.
const TAG_ROWS: usize = 1000;

/// Rewrites the `customer_tags` rows of several customers at once: one DELETE and an INSERT
/// per [`TAG_ROWS`] tags, however many customers (a rules chunk changes hundreds).
pub(crate) async fn write_tags_of(
    conn: &mut AnyConnection,
    customers: &[(i64, Vec<String>)],
) -> Result<()> {
    if customers.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = customers.iter().map(|(id, _)| *id).collect();
    let mut q = SqlBuilder::new("DELETE FROM customer_tags WHERE customer_id IN ");
    q.int_list(&ids);
    q.query().execute(&mut *conn).await?;
    let rows: Vec<(i64, &String)> = customers
        .iter()
        .flat_map(|(id, tags)| tags.iter().map(move |t| (*id, t)))
        .collect();
    for chunk in rows.chunks(TAG_ROWS) {
        let mut q = SqlBuilder::new("INSERT INTO customer_tags (customer_id, tag) VALUES ");
        for (i, (id, tag)) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push("(")
                .int(*id)
                .push(", ")
                .text((*tag).clone())
                .push(")");
        }
        q.query().execute(&mut *conn).await?;
    }
    Ok(())
}

pub(crate) async fn check_owner(conn: &mut AnyConnection, owner: Option<i64>) -> Result<()> {
    crate::users::check_active_user(conn, "owner_id", owner).await
}

/// Inserts one validated contact point (used by create and by the contact repository).
pub(crate) async fn insert_contact(
    conn: &mut AnyConnection,
    actor: &Actor,
    customer_id: i64,
    cp: &ValidContactPoint,
    now: i64,
) -> Result<i64> {
    if cp.is_primary {
        sqlx::query(
            "UPDATE contact_points SET is_primary = FALSE WHERE customer_id = $1 AND kind = $2",
        )
        .bind(customer_id)
        .bind(cp.kind.as_str())
        .execute(&mut *conn)
        .await?;
    }
    let sql = format!(
        "INSERT INTO contact_points ({CONTACT_INSERT_COLUMNS}) VALUES ({}) RETURNING id",
        placeholders(16)
    );
    let row = contact_cells(customer_id, cp, actor, now)
        .into_iter()
        .fold(sqlx::query(&sql), |q, c| c.bind(q))
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.try_get(0)?)
}

fn opt_json<T: serde::Serialize>(v: &Option<T>) -> Option<String> {
    v.as_ref()
        .map(|x| serde_json::to_string(x).unwrap_or_default())
}

/// The columns a create or an update writes from a validated customer, in binding order.
const EDITABLE_COLUMNS: [&str; 20] = [
    "name",
    "name_pinyin",
    "name_initials",
    "name_sort",
    "gender",
    "birthday",
    "birthday_lunar",
    "id_number",
    "province",
    "city",
    "address",
    "time_zone",
    "employer",
    "job_title",
    "industry",
    "lifecycle_stage",
    "owner_id",
    "tags",
    "profile",
    "company",
];

/// How many columns [`editable_cells`] fills.
pub(crate) const EDITABLE_COLUMN_COUNT: usize = EDITABLE_COLUMNS.len();

/// The editable columns, comma-separated (bulk writers name them).
pub(crate) fn editable_columns() -> String {
    EDITABLE_COLUMNS.join(", ")
}

/// The JSON-encoded columns (tags, profile, company) of a customer's fields.
fn json_columns(
    f: &guanxi_domain::customer::CustomerFields,
) -> (String, Option<String>, Option<String>) {
    (
        serde_json::to_string(&f.tags).unwrap_or_else(|_| "[]".into()),
        opt_json(&f.profile),
        opt_json(&f.company),
    )
}

/// The values of [`EDITABLE_COLUMNS`] in order; create, update and the bulk import share it so
/// they cannot drift apart.
pub(crate) fn editable_cells(c: &ValidCustomer, owner: Option<i64>) -> Vec<Cell> {
    let f = &c.fields;
    let (tags, profile, company) = json_columns(f);
    let opt = |v: &Option<String>| Cell::Text(v.clone());
    vec![
        Cell::text(c.name.as_str()),
        Cell::text(c.name.pinyin()),
        Cell::text(c.name.initials()),
        Cell::text(c.name.sort_key()),
        Cell::Text(f.gender.map(|g| g.as_str().to_string())),
        Cell::Text(f.birthday.map(|b| b.to_storage())),
        Cell::Bool(f.birthday.is_some_and(|b| b.lunar)),
        opt(&c.id_number),
        opt(&f.province),
        opt(&f.city),
        opt(&f.address),
        opt(&f.time_zone),
        opt(&f.employer),
        opt(&f.job_title),
        opt(&f.industry),
        Cell::text(c.lifecycle_stage.as_str()),
        Cell::Int(owner),
        Cell::Text(Some(tags)),
        Cell::Text(profile),
        Cell::Text(company),
    ]
}

/// The columns a new customer row sets, in the order of [`insert_cells`].
pub(crate) fn insert_columns() -> String {
    format!(
        "{}, kind, source_channel, source_direct, source_collected_by, source_collected_at, \
         created_at, updated_at, created_by, updated_by",
        EDITABLE_COLUMNS.join(", ")
    )
}

/// A new customer row's values: its owner is the given one (checked by the caller).
pub(crate) fn insert_cells(
    c: &ValidCustomer,
    owner: Option<i64>,
    actor: &Actor,
    now: i64,
) -> Vec<Cell> {
    let mut cells = editable_cells(c, owner);
    cells.extend([
        Cell::text(c.fields.kind.as_str()),
        Cell::text(c.source.channel.as_str()),
        Cell::Bool(c.source.direct),
        Cell::Int(c.source.collected_by),
        Cell::Int(Some(c.source.collected_at.map(to_ms).unwrap_or(now))),
        Cell::Int(Some(now)),
        Cell::Int(Some(now)),
        Cell::Int(actor.user_id()),
        Cell::Int(actor.user_id()),
    ]);
    cells
}

/// The columns a new contact point sets, in the order of [`contact_cells`].
pub(crate) const CONTACT_INSERT_COLUMNS: &str =
    "customer_id, kind, value_raw, value_normalized, label, is_primary, consent_marketing, \
     consent_updated_at, source_channel, source_direct, source_collected_by, source_collected_at, \
     created_at, updated_at, created_by, updated_by";

/// A new contact point's values.
pub(crate) fn contact_cells(
    customer_id: i64,
    cp: &ValidContactPoint,
    actor: &Actor,
    now: i64,
) -> Vec<Cell> {
    vec![
        Cell::Int(Some(customer_id)),
        Cell::text(cp.kind.as_str()),
        Cell::text(cp.value.raw.as_str()),
        Cell::text(cp.value.normalized.as_str()),
        Cell::Text(cp.label.clone()),
        Cell::Bool(cp.is_primary),
        Cell::Bool(cp.consent_marketing),
        Cell::Int(cp.consent_marketing.then_some(now)),
        Cell::text(cp.source.channel.as_str()),
        Cell::Bool(cp.source.direct),
        Cell::Int(cp.source.collected_by),
        Cell::Int(Some(cp.source.collected_at.map(to_ms).unwrap_or(now))),
        Cell::Int(Some(now)),
        Cell::Int(Some(now)),
        Cell::Int(actor.user_id()),
        Cell::Int(actor.user_id()),
    ]
}

/// The identification keys of a customer: its name's renderings and its live contact points'
/// values (kind, normalised value), each key once.
pub(crate) fn search_keys_of<'a>(
    name: &CustomerName,
    contacts: impl IntoIterator<Item = (ContactKind, &'a str)>,
) -> Vec<(String, &'static str)> {
    let mut keys: Vec<(String, &'static str)> = name
        .search_keys()
        .into_iter()
        .map(|k| (k.key, k.kind.as_str()))
        .collect();
    for (kind, v) in contacts {
        match kind {
            ContactKind::Phone | ContactKind::Mobile => keys.push((phone_key(v), "phone")),
            ContactKind::Email => keys.push((v.to_string(), "email")),
            ContactKind::Wechat | ContactKind::Qq => keys.push((v.to_string(), "im")),
            ContactKind::Address => {}
        }
    }
    let mut seen = std::collections::HashSet::new();
    keys.retain(|(k, _)| seen.insert(k.clone()));
    keys
}

/// The audit detail of a created customer.
pub(crate) fn created_detail(c: &ValidCustomer) -> serde_json::Value {
    let mut after = audit_view(&c.fields);
    after["contact_points"] = json!(c.contact_points.len());
    json!({ "after": after })
}

/// The audit view of a customer's fields: everything except the raw ID number, which is
/// recorded only as changed/unchanged so the audit log does not become a second copy of it.
pub(crate) fn audit_view(f: &guanxi_domain::customer::CustomerFields) -> serde_json::Value {
    let mut v = serde_json::to_value(f).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        if let Some(id) = o.get_mut("id_number") {
            if !id.is_null() {
                *id = json!(format!(
                    "sha256:{}",
                    short_digest(id.as_str().unwrap_or_default())
                ));
            }
        }
    }
    v
}

/// A short, non-reversible fingerprint so auditors can tell a changed value from an unchanged one.
fn short_digest(s: &str) -> String {
    // FNV-1a: not for security, only to compare before/after without storing the value.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

impl Store {
    /// Creates a customer with its contact points; owner defaults to the actor.
    pub async fn create_customer(&self, actor: &Actor, c: ValidCustomer) -> Result<Customer> {
        self.create_customer_with(actor, c, &[]).await
    }

    /// Creates a customer with its contact points and custom-field values, in one transaction.
    pub async fn create_customer_with(
        &self,
        actor: &Actor,
        c: ValidCustomer,
        custom: &[CustomChange],
    ) -> Result<Customer> {
        let now = to_ms(Utc::now());
        let mut tx = self.begin_write().await?;
        let id = self.insert_customer(&mut tx, actor, &c, now).await?;
        crate::custom_field::write_values_in(&mut tx, actor, "customer", id, custom).await?;
        tx.commit().await?;
        self.get_customer(&Actor::system(), id).await
    }

    /// Moves a customer's `created_at` back to their first order or interaction when that came
    /// earlier; returns how many customers moved. For a book loaded together with its history
    /// (the demo): someone who first bought three years ago has been a customer since then, not
    /// since the day the rows were loaded, so "created within N days" segments and the 360 page
    /// tell the truth. `updated_at` is left alone.
    pub async fn backdate_created_to_history(&self) -> Result<u64> {
        let first = |table: &str, at: &str| {
            format!("(SELECT MIN(h.{at}) FROM {table} h WHERE h.customer_id = customers.id)")
        };
        let histories = [
            first("orders", "ordered_at"),
            first("interactions", "occurred_at"),
        ];
        let mut tx = self.begin_write().await?;
        let (moved,): (i64,) = sqlx::query_as(&format!(
            "SELECT COUNT(*) FROM customers WHERE created_at > {} OR created_at > {}",
            histories[0], histories[1]
        ))
        .fetch_one(&mut *tx)
        .await?;
        for first in &histories {
            sqlx::query(&format!(
                "UPDATE customers SET created_at = {first} WHERE created_at > {first}"
            ))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(u64::try_from(moved).unwrap_or(0))
    }

    /// Inserts inside a caller's transaction (bulk import and demo use one transaction per batch).
    pub async fn insert_customer(
        &self,
        conn: &mut AnyConnection,
        actor: &Actor,
        c: &ValidCustomer,
        now: i64,
    ) -> Result<i64> {
        let contacts = &c.contact_points;
        let owner = c.fields.owner_id.or(actor.user_id());
        check_owner(conn, owner).await?;
        let f = &c.fields;
        let sql = format!(
            "INSERT INTO customers ({}) VALUES ({}) RETURNING id",
            insert_columns(),
            placeholders(EDITABLE_COLUMNS.len() + 9)
        );
        let row = insert_cells(c, owner, actor, now)
            .into_iter()
            .fold(sqlx::query(&sql), |q, c| c.bind(q))
            .fetch_one(&mut *conn)
            .await?;
        let id: i64 = row.try_get(0)?;
        write_tags(conn, id, &f.tags).await?;
        for cp in contacts {
            insert_contact(conn, actor, id, cp, now).await?;
        }
        rebuild_search_keys(conn, id).await?;
        record(
            conn,
            actor,
            AuditEvent {
                action: "create",
                entity: "customer",
                entity_id: Some(id),
                detail: created_detail(c),
            },
        )
        .await?;
        Ok(id)
    }

    /// One customer within the actor's scope, unmasked (the web layer masks per reader).
    pub async fn get_customer(&self, actor: &Actor, id: i64) -> Result<Customer> {
        let mut conn = self.read.acquire().await?;
        let row = load_row(&mut conn, actor, id).await?;
        Ok(hydrate(&mut conn, vec![row]).await?.remove(0))
    }

    /// Whether the customer exists and is visible to the actor.
    pub async fn customer_visible(&self, actor: &Actor, id: i64) -> Result<bool> {
        let mut q = SqlBuilder::new("SELECT c.id FROM customers c WHERE c.id = ");
        q.int(id).push(" AND c.deleted_at IS NULL");
        push_scope(&mut q, actor);
        Ok(q.query_as::<(i64,)>()
            .fetch_optional(&self.read)
            .await?
            .is_some())
    }

    /// Applies a patch with optimistic locking; the merged record is validated as a whole.
    pub async fn update_customer(
        &self,
        actor: &Actor,
        id: i64,
        patch: CustomerPatch,
    ) -> Result<Customer> {
        self.update_customer_with(actor, id, patch, &[]).await
    }

    /// Applies a patch and sets custom-field values in one transaction, under the patch's
    /// version: a form's save is one change, locked and audited together.
    pub async fn update_customer_with(
        &self,
        actor: &Actor,
        id: i64,
        patch: CustomerPatch,
        custom: &[CustomChange],
    ) -> Result<Customer> {
        let now = Utc::now();
        let mut tx = self.begin_write().await?;
        let row = load_row(&mut tx, actor, id).await?;
        if row.version != patch.version {
            return Err(StoreError::Conflict {
                current: row.version,
                updated_by: row.updated_by,
            });
        }
        let before = row.fields()?;
        let expected_version = patch.version;
        let merged = patch.apply(before.clone());
        write_update(&mut tx, actor, row, before, merged, expected_version, now).await?;
        crate::custom_field::write_values_in(&mut tx, actor, "customer", id, custom).await?;
        tx.commit().await?;
        self.get_customer(&Actor::system(), id).await
    }

    /// Soft-deletes a customer (kept for audit and order history; hidden everywhere else).
    pub async fn delete_customer(&self, actor: &Actor, id: i64, version: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let row = load_row(&mut tx, actor, id).await?;
        if row.version != version {
            return Err(StoreError::Conflict {
                current: row.version,
                updated_by: row.updated_by,
            });
        }
        let now = to_ms(Utc::now());
        sqlx::query("UPDATE customers SET deleted_at = $1, deleted_by = $2, version = version + 1, updated_at = $1, updated_by = $2 WHERE id = $3")
            .bind(now)
            .bind(actor.user_id())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM customer_search_keys WHERE customer_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        record(
            &mut tx,
            actor,
            AuditEvent {
                action: "delete",
                entity: "customer",
                entity_id: Some(id),
                detail: json!({"name": row.name}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// How many customers a list's filter selects, counted up to `cap` (a list of a million
    /// says "10,000+" rather than scanning them all): `(count, capped)`.
    pub async fn count_customers(
        &self,
        actor: &Actor,
        f: &CustomerFilter,
        cap: i64,
    ) -> Result<(i64, bool)> {
        check_score_filters(f)?;
        // A page filtered on custom fields only is counted from its first field's index, each
        // entry's customer checked by id, up to the cap: `c.id IN (…)` would first list every
        // match (600,000 of a million: 75 ms on SQLite; PostgreSQL hashed them, 0.8 s) to
        // count ten thousand of them, and a walk of the customers crosses fifty rows per match
        // of a 2 % value. SQLite is told the join order; PostgreSQL finds it.
        if custom_only(f) {
            if let Some(((code, test), rest)) = f.custom.split_first() {
                let join = match self.backend() {
                    crate::db::Backend::Sqlite => "CROSS JOIN",
                    crate::db::Backend::Postgres => "JOIN",
                };
                let mut q = SqlBuilder::new(&format!(
                    "SELECT COUNT(*) FROM (SELECT DISTINCT c.id FROM custom_values v \
                     {join} customers c ON c.id = v.record_id WHERE "
                ));
                crate::custom_field::push_value_condition(&mut q, "customer", code, test);
                q.push(" AND c.deleted_at IS NULL");
                push_scope(&mut q, actor);
                for (code, test) in rest {
                    q.push(
                        " AND EXISTS (SELECT 1 FROM custom_values v WHERE v.record_id = c.id AND ",
                    );
                    crate::custom_field::push_value_condition(&mut q, "customer", code, test);
                    q.push(")");
                }
                q.push(" LIMIT ").int(cap + 1).push(") t");
                let (n,): (i64,) = q.query_as().fetch_one(&self.read).await?;
                return Ok((n.min(cap), n > cap));
            }
        }
        let mut q = SqlBuilder::new(
            "SELECT COUNT(*) FROM (SELECT 1 FROM customers c WHERE c.deleted_at IS NULL",
        );
        push_list_filter(&mut q, actor, f, None);
        q.push(" LIMIT ").int(cap + 1).push(") t");
        let (n,): (i64,) = q.query_as().fetch_one(&self.read).await?;
        Ok((n.min(cap), n > cap))
    }

    /// Lists customers within scope with filters and keyset pagination.
    pub async fn list_customers(
        &self,
        actor: &Actor,
        f: &CustomerFilter,
    ) -> Result<Page<Customer>> {
        check_score_filters(f)?;
        let plan = self.list_plan(actor, f).await?;
        self.list_customers_as(actor, f, plan).await
    }

    /// A customer-list page read with the given plan (`None`: the database's own choice):
    /// both plans must give the same pages, which the tests check on small books where the
    /// probe would always choose [`ListPlan::Sparse`].
    pub async fn list_customers_as(
        &self,
        actor: &Actor,
        f: &CustomerFilter,
        plan: Option<ListPlan>,
    ) -> Result<Page<Customer>> {
        check_score_filters(f)?;
        let limit = f.limit.clamp(1, 200);
        let mut conn = self.read.acquire().await?;
        let sqlite = self.backend() == crate::db::Backend::Sqlite;
        let mut rows = page_rows(&mut conn, sqlite, actor, f, plan, limit).await?;
        // A short dense page is either the last one or a filter the walk's window missed
        // (its matches gathered at the far end of the sort order): the filter's own index
        // gives the true page either way.
        if plan == Some(ListPlan::Dense) && rows.len() as i64 <= limit {
            // PostgreSQL reads those matches its own way.
            let sparse = sqlite.then_some(ListPlan::Sparse);
            rows = page_rows(&mut conn, sqlite, actor, f, sparse, limit).await?;
        }
        let next_cursor = if rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|r| {
                let v = match f.sort {
                    CustomerSort::UpdatedAt => r.updated_at.to_string(),
                    CustomerSort::CreatedAt => r.created_at.to_string(),
                    CustomerSort::Name => r.name_sort.clone(),
                    CustomerSort::Id => r.id.to_string(),
                };
                encode_cursor(&v, r.id)
            })
        } else {
            None
        };
        Ok(Page {
            items: hydrate(&mut conn, rows).await?,
            next_cursor,
        })
    }

    /// The plan a customer-list page takes on SQLite: see [`ListPlan`]. PostgreSQL's planner
    /// chooses with statistics (`None`) except for a page filtered on custom fields only: it
    /// cannot tell how common a value is (the field is found by a subquery) and hashed the
    /// 600,000 customers of a common value for a page of fifty (0.8 s), so from
    /// [`CUSTOM_DENSE_MATCHES`] matches such a page walks the sort's order there too.
    ///
    /// The probe counts each filter's matches alone, up to [`DENSE_MATCHES`], from that
    /// filter's own index, and takes the fewest: an upper bound of the page's matches that
    /// never reads more than a few thousand index entries per filter. Counting them together
    /// would make SQLite build the whole list of a common filter first (the 186,000 customers
    /// of tier A: 400 ms). When the bound says dense and the combination is in fact rare, the
    /// dense walk's window bounds the cost and the page is read sparse after all. A segment's
    /// rule has no index to count by alone, so a list with one counts its matches together.
    pub async fn list_plan(&self, actor: &Actor, f: &CustomerFilter) -> Result<Option<ListPlan>> {
        let sqlite = self.backend() == crate::db::Backend::Sqlite;
        if !sqlite && !custom_only(f) {
            return Ok(None);
        }
        let n: i64 = if f.segment.is_some() {
            let mut probe = SqlBuilder::new(
                "SELECT COUNT(*) FROM (SELECT 1 FROM customers c WHERE c.deleted_at IS NULL",
            );
            push_list_filter(&mut probe, actor, f, None);
            probe.push(" LIMIT ").int(DENSE_MATCHES).push(") t");
            probe.query_scalar().fetch_one(&self.read).await?
        } else {
            let mut probe = SqlBuilder::new("SELECT MIN(n) FROM (");
            let mut terms = 0;
            let mut term = |probe: &mut SqlBuilder, from: &str| {
                if terms > 0 {
                    probe.push(" UNION ALL ");
                }
                terms += 1;
                probe.push(&format!(
                    "SELECT COUNT(*) AS n FROM (SELECT 1 FROM {from} WHERE "
                ));
            };
            let close = |probe: &mut SqlBuilder| {
                probe.push(" LIMIT ").int(DENSE_MATCHES).push(") m");
            };
            if actor.scope == RecordScope::OwnAndTeam {
                term(&mut probe, "customers c");
                probe.push("c.deleted_at IS NULL");
                push_scope(&mut probe, actor);
                close(&mut probe);
            }
            for own in own_columns(f) {
                term(&mut probe, "customers c");
                probe
                    .push(&format!("c.deleted_at IS NULL AND c.{} = ", own.column))
                    .arg(own.value);
                close(&mut probe);
            }
            for m in memberships(f) {
                term(&mut probe, m.table);
                (m.condition)(&mut probe);
                close(&mut probe);
            }
            if terms == 0 {
                return Ok(Some(ListPlan::Dense));
            }
            probe.push(") p");
            probe.query_scalar().fetch_one(&self.read).await?
        };
        let dense_at = if custom_only(f) {
            CUSTOM_DENSE_MATCHES
        } else {
            DENSE_MATCHES
        };
        Ok(if n >= dense_at {
            Some(ListPlan::Dense)
        } else if sqlite {
            Some(ListPlan::Sparse)
        } else {
            None
        })
    }

    /// What the database will do for a customer-list page under `plan` (SQLite's
    /// `EXPLAIN QUERY PLAN` details, PostgreSQL's `EXPLAIN` lines): for the tests that pin
    /// every filter × sort to an index range.
    pub async fn explain_customer_list(
        &self,
        actor: &Actor,
        f: &CustomerFilter,
        plan: Option<ListPlan>,
    ) -> Result<Vec<String>> {
        // A dense page's bound has the same shape whatever its value: a placeholder shows
        // the plan without reading the window's end.
        let window = plan
            .filter(|p| *p == ListPlan::Dense)
            .map(|_| ("0".to_string(), 0));
        let sqlite = self.backend() == crate::db::Backend::Sqlite;
        let mut q = list_query(sqlite, actor, f, plan, window)?;
        push_order(&mut q, f, plan, 50);
        q.explain(&self.read, self.backend()).await
    }
}

/// A customer-list page's query up to its `ORDER BY`: columns, the plan's hint (`sqlite`:
/// PostgreSQL takes none, a dense page's bounded walk is its own plan there), the scope, every
/// filter and the cursor.
fn list_query(
    sqlite: bool,
    actor: &Actor,
    f: &CustomerFilter,
    plan: Option<ListPlan>,
    window_end: Option<(String, i64)>,
) -> Result<SqlBuilder> {
    // SQLite's list indexes hold the live customers only (migration 0018): this condition is
    // what lets a page use them.
    let live = "c.deleted_at IS NULL";
    let hint = match (plan, walk_index(f)) {
        _ if !sqlite => String::new(),
        (Some(ListPlan::Dense), Some(index)) => format!(" INDEXED BY {index}"),
        // The id order is the table's own: walk it, not an index.
        (Some(ListPlan::Dense), None) => " NOT INDEXED".to_string(),
        (Some(ListPlan::Sparse), _) if members_only(f) => {
            " INDEXED BY customers_list_keys".to_string()
        }
        _ => String::new(),
    };
    // A sparse page picks its rows by id and sort key first, from the indexes alone, and reads
    // the fifty rows it shows afterwards (see [`ListPlan::Sparse`]); so does PostgreSQL for a
    // page filtered on other tables only, which it reads as a semi-join of their matches.
    let mut q = SqlBuilder::new(&if two_steps(f, plan) {
        format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers c WHERE c.id IN \
             (SELECT c.id FROM customers c{hint} WHERE {live}"
        )
    } else {
        format!("SELECT {CUSTOMER_COLUMNS} FROM customers c{hint} WHERE {live}")
    });
    let col = sort_expr(f, plan);
    push_cursor(&mut q, f, &col)?;
    if let Some((value, id)) = window_end {
        // The walk stops at the window's last entry (see `WALK_WINDOW`).
        let op = if f.desc { ">=" } else { "<=" };
        q.push(&format!(" AND ({col}, c.id) {op} ("));
        push_sort_value(&mut q, f, value)?;
        q.push(", ").int(id).push(")");
    }
    let walk =
        (plan == Some(ListPlan::Dense)).then_some(if sqlite { Walk::Exists } else { Walk::Probe });
    push_list_filter(&mut q, actor, f, walk);
    Ok(q)
}

/// `ORDER BY … LIMIT limit + 1` of a list page under `plan` (the extra row says whether
/// there is a next page); a sparse page's selection of ids is closed and its rows put in
/// order.
fn push_order(q: &mut SqlBuilder, f: &CustomerFilter, plan: Option<ListPlan>, limit: i64) {
    let dir = if f.desc { "DESC" } else { "ASC" };
    let col = sort_expr(f, plan);
    q.push(&format!(" ORDER BY {col} {dir}, c.id {dir} LIMIT "))
        .int(limit + 1);
    if two_steps(f, plan) {
        let col = f.sort.column();
        q.push(&format!(") ORDER BY {col} {dir}, c.id {dir}"));
    }
}

/// Whether a page picks its ids first and reads their rows after (see [`list_query`]).
fn two_steps(f: &CustomerFilter, plan: Option<ListPlan>) -> bool {
    match plan {
        Some(ListPlan::Sparse) => true,
        Some(ListPlan::Dense) => false,
        None => members_only(f),
    }
}

/// Whether a page is filtered on custom fields only (see [`CUSTOM_DENSE_MATCHES`]).
fn custom_only(f: &CustomerFilter) -> bool {
    !f.custom.is_empty()
        && f.segment.is_none()
        && own_columns(f).is_empty()
        && memberships(f).len() == f.custom.len()
}

/// Whether every filter of a page is on another table (a tag, a score, the search words).
fn members_only(f: &CustomerFilter) -> bool {
    own_columns(f).is_empty() && f.segment.is_none() && !memberships(f).is_empty()
}

/// The sort column as a page under `plan` names it: a sparse page writes `+column`, so that
/// SQLite reads the filter's index and sorts rather than walking the sort's index. The id
/// stays plain: the list of a tag's or a score's members is kept in id order, so SQLite reads
/// it in the page's order and stops after a page (9 ms for 24,700 "zhang" matches at a
/// million, where sorting them took 47 ms), and every filter index ends with the id.
fn sort_expr(f: &CustomerFilter, plan: Option<ListPlan>) -> String {
    match plan {
        Some(ListPlan::Sparse) if f.sort != CustomerSort::Id => format!("+{}", f.sort.column()),
        _ => f.sort.column().to_string(),
    }
}

/// The rows of one list page under `plan`.
async fn page_rows(
    conn: &mut AnyConnection,
    sqlite: bool,
    actor: &Actor,
    f: &CustomerFilter,
    plan: Option<ListPlan>,
    limit: i64,
) -> Result<Vec<CustomerRow>> {
    let window_end = match plan {
        Some(ListPlan::Dense) => window_end(conn, sqlite, f).await?,
        _ => None,
    };
    let mut q = list_query(sqlite, actor, f, plan, window_end)?;
    push_order(&mut q, f, plan, limit);
    Ok(q.query_as().fetch_all(&mut *conn).await?)
}

/// The `(sort value, id)` of the [`WALK_WINDOW`]th customer from the cursor on, in the page's
/// order, from the walked index of live customers alone; `None` when fewer remain.
async fn window_end(
    conn: &mut AnyConnection,
    sqlite: bool,
    f: &CustomerFilter,
) -> Result<Option<(String, i64)>> {
    let col = f.sort.column();
    let hint = match walk_index(f) {
        Some(index) if sqlite => format!(" INDEXED BY {index}"),
        _ => String::new(),
    };
    // PostgreSQL's sort indexes hold every customer (SQLite's, the live ones only): there the
    // window counts deleted customers too, which keeps it an index-only read (a window of live
    // ones took the owners' partial index and a sort of every customer: 0.96 s).
    let live = if sqlite {
        " WHERE c.deleted_at IS NULL"
    } else {
        " WHERE 1 = 1"
    };
    let mut q = SqlBuilder::new(&format!("SELECT {col}, c.id FROM customers c{hint}{live}"));
    if let Some(own) = walked_column(f) {
        q.push(&format!(" AND c.{} = ", own.column)).arg(own.value);
    }
    push_cursor(&mut q, f, col)?;
    let dir = if f.desc { "DESC" } else { "ASC" };
    q.push(&format!(
        " ORDER BY {col} {dir}, c.id {dir} LIMIT 1 OFFSET {WALK_WINDOW}"
    ));
    // The sort value is read as stored (a cast in the select list made PostgreSQL sort every
    // customer rather than walk the index: 1.3 s) and carried as text like a cursor's.
    Ok(if f.sort.is_text() {
        q.query_as::<(String, i64)>()
            .fetch_optional(&mut *conn)
            .await?
    } else {
        q.query_as::<(i64, i64)>()
            .fetch_optional(&mut *conn)
            .await?
            .map(|(v, id)| (v.to_string(), id))
    })
}

/// The keyset condition of a page after the first: past the cursor's `(sort value, id)`.
fn push_cursor(q: &mut SqlBuilder, f: &CustomerFilter, col: &str) -> Result<()> {
    if let Some(c) = &f.cursor {
        let (v, id) = decode_cursor(c).ok_or_else(bad_cursor)?;
        let op = if f.desc { "<" } else { ">" };
        q.push(&format!(" AND ({col}, c.id) {op} ("));
        push_sort_value(q, f, v)?;
        q.push(", ").int(id).push(")");
    }
    Ok(())
}

/// Binds a sort value carried as text (a cursor's, a window's end) as its column's type.
fn push_sort_value(q: &mut SqlBuilder, f: &CustomerFilter, v: String) -> Result<()> {
    if f.sort.is_text() {
        q.text(v);
    } else {
        q.int(v.parse().map_err(|_| bad_cursor())?);
    }
    Ok(())
}

/// How far a [`ListPlan::Dense`] page walks the sort's order before it gives up and reads the
/// matches by the filter instead: enough for fifty matches of a filter that holds for one
/// customer in 200 (a dense one holds for one in 33 at a million), short enough to stay
/// within a page's budget. The walk is bounded by the sort key of the window's last entry,
/// read from the walked index alone, so the page keeps its index order (no sort) and still
/// cannot read the whole table when a filter's matches gather at the far end of the order.
const WALK_WINDOW: i64 = 10_000;
