//! Saved segments: list with sizes, save, change, delete, size a rule, narrow a customer list,
//! export. Sizes and members are always the reader's (a rep sees how many of *his* customers
//! match), and rules are kept as written and resolved at each use with the caller's `as_of`,
//! so "last 90 days" moves.

use chrono::{DateTime, Utc};
use guanxi_domain::role::{Actor, Permission};
use guanxi_domain::segment::{AsOf, SegmentFilter, SegmentInput, SegmentRule};
use guanxi_domain::{ValidationError, ValidationErrors};
use guanxi_store::customers::CustomerFilter;
use guanxi_store::segment_sizes::SizingReport;
use guanxi_store::segments::Segment;
use guanxi_store::{Store, StoreError};
use guanxi_text::i18n::Locale;

use crate::{require, AppError};

/// A rule's problems with paths under `rule` (`rule.clauses[2].value`).
fn rule_errors(e: ValidationErrors) -> ValidationErrors {
    ValidationErrors(e.0.into_iter().map(|x| x.under("rule")).collect())
}

/// Resolves a rule now; its problems are validation problems under `rule`.
fn resolve(rule: &SegmentRule, as_of: AsOf) -> Result<SegmentFilter, AppError> {
    rule.resolve(as_of)
        .map_err(|e| AppError::Invalid(rule_errors(e)))
}

/// Checks a rule's custom-field clauses against the fields `actor` may filter by (problems
/// under `rule`).
async fn check_custom(store: &Store, actor: &Actor, rule: &SegmentRule) -> Result<(), AppError> {
    if !mentions_custom(rule) {
        return Ok(());
    }
    let cat =
        crate::custom_field::catalogue(store, guanxi_domain::custom_field::FieldEntity::Customer)
            .await?;
    rule.check_custom(&cat, actor)
        .map_err(|e| AppError::Invalid(rule_errors(e)))
}

fn mentions_custom(rule: &SegmentRule) -> bool {
    rule.clauses.iter().any(|c| {
        c.field.starts_with(guanxi_domain::segment::CUSTOM_PREFIX)
            || c.rule.as_deref().is_some_and(mentions_custom)
    })
}

/// Resolves a saved segment's rule now. A rule saved by an older version that no longer
/// resolves is a validation problem under `rule`, not a server error.
async fn resolve_saved(
    store: &Store,
    as_of: AsOf,
    id: i64,
) -> Result<(Segment, SegmentFilter), AppError> {
    let seg = store.get_segment(id).await?;
    let f = resolve(&seg.rule, as_of)?;
    Ok((seg, f))
}

/// A customer list's saved segment and ad-hoc rule, and the filter they make together.
pub struct ListNarrowing {
    /// The saved segment, for its name and link.
    pub segment: Option<Segment>,
    /// The ad-hoc rule, to say in words.
    pub rule: Option<SegmentRule>,
    /// Both together, for the store.
    pub filter: Option<SegmentFilter>,
    /// The ad-hoc rule's custom-field conditions a list reads as memberships (see
    /// [`custom_memberships`]), to add to the list's `custom` filters; `filter` holds the rest.
    pub custom: Vec<(String, guanxi_domain::segment::CustomTest)>,
}

/// Takes out of a rule that must hold in full (`all`) its positive custom-field clauses
/// (`eq`, `in`, `has`, `contains`, `not_empty`, ranges): a list reads those like a tag, from
/// the field's index (a range of numbers or dates included), where as part of a segment rule
/// they would be counted with the rest before the plan is chosen (0.3 s at a million for a
/// date range). Negations stay in the rule. Returns the resolved conditions and the rest.
fn custom_memberships(
    rule: &SegmentRule,
    as_of: AsOf,
) -> (
    Vec<(String, guanxi_domain::segment::CustomTest)>,
    SegmentRule,
) {
    if rule.match_ == "any" {
        return (Vec::new(), rule.clone());
    }
    let mut taken = Vec::new();
    let mut rest = SegmentRule {
        match_: rule.match_.clone(),
        clauses: Vec::new(),
    };
    for c in &rule.clauses {
        let one = SegmentRule {
            match_: "all".into(),
            clauses: vec![c.clone()],
        };
        let resolved = c
            .field
            .starts_with(guanxi_domain::segment::CUSTOM_PREFIX)
            .then(|| one.resolve(as_of).ok())
            .flatten()
            .and_then(|f| f.conditions.into_iter().next());
        match resolved {
            Some(guanxi_domain::segment::Condition {
                negate: false,
                test: guanxi_domain::segment::Test::Custom { code, test },
            }) => taken.push((code, test)),
            _ => rest.clauses.push(c.clone()),
        }
    }
    (taken, rest)
}

/// What a customer list is narrowed to: a saved segment, an ad-hoc rule (JSON, as a chart's
/// click-through sends it), or both at once (both must hold). One place for the page and the
/// API, so `/customers?rule=…` means the same in both. Problems are query problems
/// ([`AppError::InvalidQuery`]) naming `segment_id` or the rule's clause.
pub async fn list_narrowing(
    store: &Store,
    as_of: AsOf,
    actor: &Actor,
    segment_id: Option<i64>,
    rule_json: Option<&str>,
) -> Result<ListNarrowing, AppError> {
    let saved = match segment_id {
        Some(id) => Some(resolve_saved(store, as_of, id).await.map_err(|e| match e {
            AppError::Store(StoreError::NotFound) => AppError::InvalidQuery(ValidationErrors(
                vec![ValidationError::new("segment_id", "invalid_reference")],
            )),
            AppError::Invalid(v) => AppError::InvalidQuery(v),
            other => other,
        })?),
        None => None,
    };
    let rule = match rule_json {
        Some(s) => Some(serde_json::from_str::<SegmentRule>(s).map_err(|_| {
            AppError::InvalidQuery(ValidationErrors(vec![ValidationError::new(
                "rule",
                "malformed_json",
            )]))
        })?),
        None => None,
    };
    let mut custom = Vec::new();
    let filter = match &rule {
        None => saved.as_ref().map(|s| s.1.clone()),
        Some(rule) => {
            check_custom(store, actor, rule)
                .await
                .map_err(|e| match e {
                    AppError::Invalid(v) => AppError::InvalidQuery(v),
                    other => other,
                })?;
            // Checked whole first (every problem named at its clause), then split.
            rule.resolve(as_of)
                .map_err(|e| AppError::InvalidQuery(rule_errors(e)))?;
            let (taken, rest) = custom_memberships(rule, as_of);
            custom = taken;
            let rule = &rest;
            let rule = match &saved {
                Some((seg, _)) => SegmentRule::all_of(vec![seg.rule.clone(), rule.clone()]),
                None => rule.clone(),
            };
            Some(
                rule.resolve(as_of)
                    .map_err(|e| AppError::InvalidQuery(rule_errors(e)))?,
            )
        }
    };
    // A rule made of custom-field conditions only leaves nothing else to hold.
    let filter = filter.filter(|f| !f.conditions.is_empty() || custom.is_empty());
    Ok(ListNarrowing {
        segment: saved.map(|s| s.0),
        rule,
        filter,
        custom,
    })
}

/// The size of a saved segment for a reader; `None` when its rule no longer resolves (saved by
/// an older version), so a list of segments still shows the others.
pub async fn size_for(
    store: &Store,
    as_of: AsOf,
    actor: &Actor,
    seg: &Segment,
) -> Result<Option<i64>, AppError> {
    require(actor, Permission::ReadCustomers)?;
    match seg.rule.resolve(as_of) {
        Ok(f) => Ok(Some(store.segment_size(actor, &f).await?)),
        Err(_) => Ok(None),
    }
}

/// A segment with its size for the reader; a rule that no longer resolves is a problem under
/// `rule`.
async fn sized(
    store: &Store,
    as_of: AsOf,
    actor: &Actor,
    seg: Segment,
) -> Result<(Segment, i64), AppError> {
    let f = resolve(&seg.rule, as_of)?;
    let size = store.segment_size(actor, &f).await?;
    Ok((seg, size))
}

/// A saved segment's size as a list shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListedSize {
    /// Customers in the reader's scope who match.
    pub size: i64,
    /// When it was counted by the `segments.size` job; `None`: counted for this request.
    pub counted_at: Option<DateTime<Utc>>,
}

/// The sizes of saved segments for a list, in their order: the size the `segments.size` job
/// counted for the reader's scope while it is newer than the segment's last change (one read
/// for the whole list, instead of a count of the book per segment), else counted now. `None`
/// for a rule that no longer resolves (saved by an older version), so the others still show.
pub async fn listed_sizes(
    store: &Store,
    as_of: AsOf,
    actor: &Actor,
    segments: &[Segment],
) -> Result<Vec<Option<ListedSize>>, AppError> {
    require(actor, Permission::ReadCustomers)?;
    let counted = store.counted_segment_sizes(actor).await?;
    let mut out = Vec::with_capacity(segments.len());
    for seg in segments {
        let listed = match counted.get(&seg.id) {
            Some(c) if c.counted_at > seg.updated_at => Some(ListedSize {
                size: c.size,
                counted_at: Some(c.counted_at),
            }),
            _ => size_for(store, as_of, actor, seg)
                .await?
                .map(|size| ListedSize {
                    size,
                    counted_at: None,
                }),
        };
        out.push(listed);
    }
    Ok(out)
}

/// Every saved segment with its size for the reader (see [`listed_sizes`]); a rule that no
/// longer resolves is a problem under `rule`.
pub async fn list_segments(
    store: &Store,
    as_of: AsOf,
    actor: &Actor,
) -> Result<Vec<(Segment, ListedSize)>, AppError> {
    require(actor, Permission::ReadCustomers)?;
    let segments = store.list_segments().await?;
    let sizes = listed_sizes(store, as_of, actor, &segments).await?;
    let mut out = Vec::with_capacity(segments.len());
    for (seg, size) in segments.into_iter().zip(sizes) {
        match size {
            Some(size) => out.push((seg, size)),
            None => {
                resolve(&seg.rule, as_of)?;
            }
        }
    }
    Ok(out)
}

/// Counts every saved segment for every reader scope ahead of the lists (the `segments.size`
/// job; the system or an admin runs it).
pub async fn size_saved_segments(
    store: &Store,
    as_of: AsOf,
    actor: &Actor,
) -> Result<SizingReport, AppError> {
    require(actor, Permission::RunAnalytics)?;
    Ok(store.size_saved_segments(as_of).await?)
}

/// Every saved segment as stored (for a page that sizes each on its own and shows the others
/// when one no longer resolves).
pub async fn saved_segments(store: &Store, actor: &Actor) -> Result<Vec<Segment>, AppError> {
    require(actor, Permission::ReadCustomers)?;
    Ok(store.list_segments().await?)
}

/// One saved segment as stored.
pub async fn get_segment(store: &Store, actor: &Actor, id: i64) -> Result<Segment, AppError> {
    require(actor, Permission::ReadCustomers)?;
    Ok(store.get_segment(id).await?)
}

/// One saved segment with its size for the reader.
pub async fn get_sized(
    store: &Store,
    as_of: AsOf,
    actor: &Actor,
    id: i64,
) -> Result<(Segment, i64), AppError> {
    let seg = get_segment(store, actor, id).await?;
    sized(store, as_of, actor, seg).await
}

/// The background job that counts every saved segment for every reader scope (run by the
/// server's worker, `guanxi_web::jobs`).
pub const SIZES_JOB: &str = "segments.size";

/// Queues a count of the saved segments' sizes (as the system: counting is not the saver's
/// permission to hold) unless one is already queued or running; the worker picks it up.
pub async fn queue_sizes(store: &Store, utc_offset_hours: i64) -> Result<(), AppError> {
    crate::jobs::queue_system_job(
        store,
        SIZES_JOB,
        Some("all"),
        serde_json::json!({ "utc_offset_hours": utc_offset_hours }),
    )
    .await
}

/// Saves a segment (marketing, managers, admins); audited by the store. Its size is counted
/// for every reader in the background, so the list of segments need not count it live.
pub async fn create_segment(
    store: &Store,
    as_of: AsOf,
    actor: &Actor,
    input: &SegmentInput,
) -> Result<(Segment, i64), AppError> {
    require(actor, Permission::ManageSegments)?;
    check_custom(store, actor, &input.rule).await?;
    let seg = store.create_segment(actor, input, as_of).await?;
    queue_sizes(store, as_of.utc_offset_hours).await?;
    sized(store, as_of, actor, seg).await
}

/// Changes a segment guarded by the version last read (a stale one is a conflict).
pub async fn update_segment(
    store: &Store,
    as_of: AsOf,
    actor: &Actor,
    id: i64,
    version: i64,
    input: &SegmentInput,
) -> Result<(Segment, i64), AppError> {
    require(actor, Permission::ManageSegments)?;
    check_custom(store, actor, &input.rule).await?;
    let seg = store
        .update_segment(actor, id, version, input, as_of)
        .await?;
    queue_sizes(store, as_of.utc_offset_hours).await?;
    sized(store, as_of, actor, seg).await
}

/// Deletes a segment guarded by the version last read.
pub async fn delete_segment(
    store: &Store,
    actor: &Actor,
    id: i64,
    version: i64,
) -> Result<(), AppError> {
    require(actor, Permission::ManageSegments)?;
    Ok(store.delete_segment(actor, id, version).await?)
}

/// The size of a rule without saving it (the editor's preview).
pub async fn preview(
    store: &Store,
    as_of: AsOf,
    actor: &Actor,
    rule: &SegmentRule,
) -> Result<i64, AppError> {
    require(actor, Permission::ReadCustomers)?;
    let f = resolve(rule, as_of)?;
    check_custom(store, actor, rule).await?;
    Ok(store.segment_size(actor, &f).await?)
}

/// A saved segment's customers in the reader's scope as CSV through the one export writer
/// (masked, formula-safe, audited with the row count): the segment's name and the bytes.
/// Above the shop's export threshold it is refused (`needs_approval`).
pub async fn export_csv(
    store: &Store,
    as_of: AsOf,
    actor: &Actor,
    locale: Locale,
    id: i64,
) -> Result<(String, Vec<u8>), AppError> {
    require(actor, Permission::Export)?;
    let (seg, f) = resolve_saved(store, as_of, id).await?;
    let filter = CustomerFilter {
        segment: Some(f),
        ..Default::default()
    };
    // The mass-export guard holds here too: a segment larger than the threshold is exported
    // from the customer list, which asks a manager (`export::approval`).
    let threshold = store.export_policy().await?.approval_threshold;
    let (count, capped) = store.count_customers(actor, &filter, threshold + 1).await?;
    if capped || count > threshold {
        return Err(ValidationErrors::single("segment", "needs_approval").into());
    }
    let body =
        crate::export::customers_csv(store, actor, locale, &filter, "segment", Some(id)).await?;
    Ok((seg.name, body))
}
