//! Saved segments' sizes, counted ahead for every reader scope and kept with the time they were
//! counted (`segment_sizes`, migration 0022). A count at a million customers takes tens to
//! hundreds of milliseconds, so a list of ten segments counted live would take seconds; the
//! job queue's `segments.size` job counts them after each score refresh and on a schedule, and
//! the list shows each size with its time. A size counted before its segment last changed is
//! not used: the list counts that one live.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use guanxi_domain::role::{Actor, RecordScope};
use guanxi_domain::segment::AsOf;
use serde::Serialize;

use crate::db::{from_ms, to_ms, Store};
use crate::error::Result;
use crate::segments::{count_planned, plan_kept};

/// The key of the customers a reader sees: every customer (`all`), their team's (`team:<id>`),
/// or their own (`user:<id>`). Readers with one key see the same sizes.
pub fn scope_key(actor: &Actor) -> String {
    match (actor.scope, actor.team_id) {
        (RecordScope::All, _) => "all".into(),
        (RecordScope::OwnAndTeam, Some(team)) => format!("team:{team}"),
        (RecordScope::OwnAndTeam, None) => format!("user:{}", actor.id),
    }
}

/// A size counted ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CountedSize {
    /// Customers in the segment, in the scope.
    pub size: i64,
    /// When it was counted.
    pub counted_at: DateTime<Utc>,
}

/// What one sizing run did (the job's result).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SizingReport {
    /// Saved segments counted.
    pub segments: usize,
    /// Reader scopes each was counted for.
    pub scopes: usize,
    /// Segments whose rule no longer resolves (left uncounted).
    pub unresolved: usize,
    /// Milliseconds the run took.
    pub millis: u128,
}

impl Store {
    /// The sizes counted ahead for the reader's scope, by segment id.
    pub async fn counted_segment_sizes(&self, actor: &Actor) -> Result<HashMap<i64, CountedSize>> {
        let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
            "SELECT segment_id, size, counted_at FROM segment_sizes WHERE scope = $1",
        )
        .bind(scope_key(actor))
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, size, at)| {
                (
                    id,
                    CountedSize {
                        size,
                        counted_at: from_ms(at),
                    },
                )
            })
            .collect())
    }

    /// Counts every saved segment for every scope an active user reads with (and `all`),
    /// keeping each size as it is counted; sizes of scopes and segments that are gone are
    /// dropped at the end. Counts read; each kept size is one small write.
    pub async fn size_saved_segments(&self, as_of: AsOf) -> Result<SizingReport> {
        let t0 = std::time::Instant::now();
        let started = to_ms(Utc::now());
        let mut scopes: BTreeMap<String, Actor> = BTreeMap::new();
        scopes.insert("all".into(), Actor::system());
        for u in self.list_users().await? {
            if u.active {
                let actor = Actor::for_user(&u);
                scopes.entry(scope_key(&actor)).or_insert(actor);
            }
        }
        let mut report = SizingReport {
            scopes: scopes.len(),
            ..SizingReport::default()
        };
        for seg in self.list_segments().await? {
            let Ok(f) = seg.rule.resolve(as_of) else {
                report.unresolved += 1;
                continue;
            };
            // The plan's probes are the same for every reader: once per segment.
            let plan = plan_kept(&mut *self.read.acquire().await?, self.backend(), &f).await?;
            for (key, actor) in &scopes {
                let counted_at = to_ms(Utc::now());
                let size = {
                    let mut conn = self.read.acquire().await?;
                    count_planned(&mut conn, self.backend(), actor, &f, &plan).await?
                };
                sqlx::query(
                    "INSERT INTO segment_sizes (segment_id, scope, size, counted_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (segment_id, scope) \
                     DO UPDATE SET size = excluded.size, counted_at = excluded.counted_at",
                )
                .bind(seg.id)
                .bind(key)
                .bind(size)
                .bind(counted_at)
                .execute(&self.write)
                .await?;
            }
            report.segments += 1;
        }
        sqlx::query("DELETE FROM segment_sizes WHERE counted_at < $1")
            .bind(started)
            .execute(&self.write)
            .await?;
        report.millis = t0.elapsed().as_millis();
        Ok(report)
    }
}
