//! Care plans and their firing. A plan names an occasion, how many days before it to act, an
//! optional saved segment, and the task to give the customer's owner. The `care.plans` job
//! fires every active plan for the occasion days that have come into its window since it last
//! ran (at most [`GRACE_DAYS`] back after a downtime); each firing is a row keyed by
//! `(plan, customer, occasion day)`, inserted with `ON CONFLICT DO NOTHING` in the same
//! transaction as its task, so no restart, retry or second worker can fire it twice.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use guanxi_domain::care::plan::CarePlan;
use guanxi_domain::care::{festivals_between, Occasion};
use guanxi_domain::role::Actor;
use guanxi_domain::segment::AsOf;
use guanxi_domain::ValidationErrors;

use super::dates::GRACE_DAYS;
use crate::audit::entry;
use crate::db::{from_ms, to_ms, Store};
use crate::error::{Result, StoreError};
use crate::segments::push_segment;
use crate::sql::SqlBuilder;
use crate::timeline::insert_system_task;

/// A stored care plan with how often it has fired.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct CarePlanRecord {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Occasion code (`birthday`, `festival.mid_autumn`).
    pub occasion: String,
    /// Days before the occasion the task is created.
    pub days_before: i64,
    /// Only customers in this segment.
    pub segment_id: Option<i64>,
    /// The task's title.
    pub task_title: String,
    /// Fired by the schedule.
    pub active: bool,
    /// The last occasion day already fired.
    pub checked_through: Option<NaiveDate>,
    /// Firings so far.
    pub fired: i64,
    /// Version, for updates.
    pub version: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// What a firing run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FireReport {
    /// Plans looked at.
    pub plans: usize,
    /// New firings (one task each).
    pub fired: usize,
    /// Plans skipped because their segment is gone or no longer valid.
    pub skipped: Vec<i64>,
}

#[derive(sqlx::FromRow)]
struct PlanRow {
    id: i64,
    name: String,
    occasion: String,
    days_before: i64,
    segment_id: Option<i64>,
    task_title: String,
    active: crate::rows::Flag,
    checked_through: Option<String>,
    fired: i64,
    version: i64,
    created_at: i64,
    updated_at: i64,
}

const PLAN_SELECT: &str = "SELECT p.id, p.name, p.occasion, p.days_before, p.segment_id, \
     p.task_title, p.active, p.checked_through, \
     (SELECT COUNT(*) FROM care_firings f WHERE f.plan_id = p.id) AS fired, p.version, \
     p.created_at, p.updated_at FROM care_plans p";

impl PlanRow {
    fn into_record(self) -> Result<CarePlanRecord> {
        Ok(CarePlanRecord {
            id: self.id,
            name: self.name,
            occasion: self.occasion,
            days_before: self.days_before,
            segment_id: self.segment_id,
            task_title: self.task_title,
            active: self.active.0,
            checked_through: self
                .checked_through
                .map(|d| d.parse())
                .transpose()
                .map_err(|_| StoreError::Corrupt("care_plans.checked_through".into()))?,
            fired: self.fired,
            version: self.version,
            created_at: from_ms(self.created_at),
            updated_at: from_ms(self.updated_at),
        })
    }
}

/// What a plan would fire for.
enum Candidates {
    /// The statement selecting the customers and their occasion days.
    Query(SqlBuilder),
    /// No occasion day of the plan's in the window (a festival elsewhere in the year).
    NoDay,
    /// The plan's segment was deleted or no longer resolves: the plan cannot fire.
    SegmentGone,
}

/// The occasion days a plan covers at `today`: from the day after it last covered (at most
/// [`GRACE_DAYS`] back; a new plan starts today) to `days_before` ahead.
fn window(
    today: NaiveDate,
    days_before: i64,
    checked: Option<NaiveDate>,
) -> (NaiveDate, NaiveDate) {
    let to = today + Duration::days(days_before);
    let from = match checked {
        Some(c) => (c + Duration::days(1)).max(today - Duration::days(GRACE_DAYS)),
        None => today,
    };
    (from, to)
}

impl Store {
    /// Every care plan, by name.
    pub async fn list_care_plans(&self) -> Result<Vec<CarePlanRecord>> {
        let rows: Vec<PlanRow> = sqlx::query_as(&format!("{PLAN_SELECT} ORDER BY p.name"))
            .fetch_all(&self.read)
            .await?;
        rows.into_iter().map(PlanRow::into_record).collect()
    }

    /// One care plan.
    pub async fn get_care_plan(&self, id: i64) -> Result<CarePlanRecord> {
        let row: Option<PlanRow> = sqlx::query_as(&format!("{PLAN_SELECT} WHERE p.id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        row.ok_or(StoreError::NotFound)?.into_record()
    }

    async fn check_plan_segment(&self, plan: &CarePlan) -> Result<()> {
        if let Some(s) = plan.segment_id {
            let found: Option<i64> = sqlx::query_scalar("SELECT id FROM segments WHERE id = $1")
                .bind(s)
                .fetch_optional(&self.read)
                .await?;
            if found.is_none() {
                return Err(ValidationErrors::single("segment_id", "not_found").into());
            }
        }
        Ok(())
    }

    /// Saves a new plan, audited; a taken name is `Duplicate { field: "name" }`.
    pub async fn create_care_plan(&self, actor: &Actor, plan: &CarePlan) -> Result<CarePlanRecord> {
        self.check_plan_segment(plan).await?;
        let now = to_ms(Utc::now());
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO care_plans (name, occasion, days_before, segment_id, task_title, \
             active, version, created_at, updated_at, created_by, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7, $8, $8) RETURNING id",
        )
        .bind(plan.name.as_str())
        .bind(plan.occasion.code())
        .bind(plan.days_before)
        .bind(plan.segment_id)
        .bind(plan.task_title.as_str())
        .bind(plan.active)
        .bind(now)
        .bind(actor.user_id())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::unique(e, "name"))?;
        entry(
            &mut tx,
            actor,
            "create_care_plan",
            "care_plan",
            Some(id),
            serde_json::json!({"name": plan.name, "occasion": plan.occasion.code(),
                "days_before": plan.days_before, "segment_id": plan.segment_id}),
        )
        .await?;
        tx.commit().await?;
        self.get_care_plan(id).await
    }

    /// Changes a plan at `version`, audited. Its firing history stays: a plan moved to three
    /// days earlier does not fire again for a day it already covered.
    pub async fn update_care_plan(
        &self,
        actor: &Actor,
        id: i64,
        version: i64,
        plan: &CarePlan,
    ) -> Result<CarePlanRecord> {
        self.check_plan_segment(plan).await?;
        let before = self.get_care_plan(id).await?;
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE care_plans SET name = $1, occasion = $2, days_before = $3, segment_id = $4, \
             task_title = $5, active = $6, version = version + 1, updated_at = $7, \
             updated_by = $8 WHERE id = $9 AND version = $10",
        )
        .bind(plan.name.as_str())
        .bind(plan.occasion.code())
        .bind(plan.days_before)
        .bind(plan.segment_id)
        .bind(plan.task_title.as_str())
        .bind(plan.active)
        .bind(to_ms(Utc::now()))
        .bind(actor.user_id())
        .bind(id)
        .bind(version)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::unique(e, "name"))?
        .rows_affected();
        StoreError::changed(n, before.version)?;
        entry(
            &mut tx,
            actor,
            "update_care_plan",
            "care_plan",
            Some(id),
            serde_json::json!({"name": plan.name, "occasion": plan.occasion.code(),
                "days_before": plan.days_before, "segment_id": plan.segment_id,
                "active": plan.active, "was_active": before.active}),
        )
        .await?;
        tx.commit().await?;
        self.get_care_plan(id).await
    }

    /// How many customers `plan` would give a task to if it were switched on at `as_of`: the
    /// dry run a manager sees before saving.
    pub async fn preview_care_plan(&self, plan: &CarePlan, as_of: AsOf) -> Result<i64> {
        self.check_plan_segment(plan).await?;
        let mut conn = self.read.acquire().await?;
        let (from, to) = window(as_of.today, plan.days_before, None);
        let prefix = SqlBuilder::new("SELECT COUNT(*) FROM (");
        match self
            .candidates(&mut conn, plan, from, to, as_of, prefix)
            .await?
        {
            Candidates::Query(mut q) => {
                q.push(") n");
                let (n,): (i64,) = q.query_as().fetch_one(&mut *conn).await?;
                Ok(n)
            }
            Candidates::NoDay | Candidates::SegmentGone => Ok(0),
        }
    }

    /// Appends to `q` the `SELECT DISTINCT customer_id, next_on` of the customers `plan` fires
    /// for on the occasion days `from..=to`.
    async fn candidates(
        &self,
        conn: &mut sqlx::AnyConnection,
        plan: &CarePlan,
        from: NaiveDate,
        to: NaiveDate,
        as_of: AsOf,
        mut q: SqlBuilder,
    ) -> Result<Candidates> {
        let segment = match plan.segment_id {
            Some(id) => match self.resolve_saved_segment(conn, id, as_of).await? {
                Ok(resolved) => Some(resolved),
                Err(_) => return Ok(Candidates::SegmentGone),
            },
            None => None,
        };
        match plan.occasion {
            Occasion::Customer(kind) => {
                q.push(
                    "SELECT DISTINCT d.customer_id, d.next_on \
                     FROM care_dates d JOIN customers c ON c.id = d.customer_id \
                     WHERE d.kind = ",
                )
                .text(kind.as_str())
                .push(" AND d.next_on >= ")
                .text(from.to_string())
                .push(" AND d.next_on <= ")
                .text(to.to_string());
            }
            Occasion::Festival(f) => {
                let days: Vec<NaiveDate> = festivals_between(from, to)
                    .into_iter()
                    .filter(|(g, _)| *g == f)
                    .map(|(_, d)| d)
                    .collect();
                let Some(day) = days.first() else {
                    return Ok(Candidates::NoDay);
                };
                q.push("SELECT DISTINCT c.id AS customer_id, ")
                    .text(day.to_string())
                    .push(" AS next_on FROM customers c WHERE 1 = 1");
            }
        }
        q.push(" AND c.deleted_at IS NULL");
        if let Some((f, kept)) = &segment {
            q.push(" AND ");
            push_segment(&mut q, f, kept);
        }
        Ok(Candidates::Query(q))
    }

    /// Fires every active plan for the occasion days come into its window at `as_of`; see the
    /// module notes. One transaction per plan.
    pub async fn fire_care_plans(&self, as_of: AsOf) -> Result<FireReport> {
        let plans: Vec<CarePlanRecord> = self
            .list_care_plans()
            .await?
            .into_iter()
            .filter(|p| p.active)
            .collect();
        let mut report = FireReport {
            plans: plans.len(),
            ..FireReport::default()
        };
        for p in plans {
            let Ok(occasion) = Occasion::parse(&p.occasion) else {
                report.skipped.push(p.id);
                continue;
            };
            let plan = CarePlan {
                name: p.name.clone(),
                occasion,
                days_before: p.days_before,
                segment_id: p.segment_id,
                task_title: p.task_title.clone(),
                active: true,
            };
            let (from, to) = window(as_of.today, p.days_before, p.checked_through);
            if from > to {
                continue;
            }
            let mut tx = self.begin_write().await?;
            let mut insert = SqlBuilder::new(
                "INSERT INTO care_firings (plan_id, customer_id, occasion_on, fired_at) SELECT ",
            );
            insert
                .int(p.id)
                .push(", s.customer_id, s.next_on, ")
                .int(to_ms(as_of.now))
                .push(" FROM (");
            match self
                .candidates(&mut tx, &plan, from, to, as_of, insert)
                .await?
            {
                Candidates::SegmentGone => {
                    report.skipped.push(p.id);
                    continue;
                }
                Candidates::NoDay => {}
                Candidates::Query(mut q) => {
                    q.push(
                        ") s WHERE true ON CONFLICT (plan_id, customer_id, occasion_on) DO NOTHING",
                    );
                    q.query().execute(&mut *tx).await?;
                }
            }
            report.fired += self
                .give_tasks(&mut tx, p.id, &plan, as_of.utc_offset_hours)
                .await?;
            self.mark_checked(&mut tx, p.id, to).await?;
            tx.commit().await?;
        }
        Ok(report)
    }

    async fn mark_checked(
        &self,
        conn: &mut sqlx::AnyConnection,
        plan: i64,
        through: NaiveDate,
    ) -> Result<()> {
        sqlx::query("UPDATE care_plans SET checked_through = $1 WHERE id = $2")
            .bind(through.to_string())
            .bind(plan)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    /// A task for the owner of each firing of `plan` that has none yet, due at nine in the
    /// morning of the occasion day; returns how many.
    async fn give_tasks(
        &self,
        conn: &mut sqlx::AnyConnection,
        plan_id: i64,
        plan: &CarePlan,
        utc_offset_hours: i64,
    ) -> Result<usize> {
        let waiting: Vec<(i64, String, Option<i64>)> = sqlx::query_as(
            "SELECT f.customer_id, f.occasion_on, c.owner_id FROM care_firings f \
             JOIN customers c ON c.id = f.customer_id \
             WHERE f.plan_id = $1 AND f.task_id IS NULL",
        )
        .bind(plan_id)
        .fetch_all(&mut *conn)
        .await?;
        let now = to_ms(Utc::now());
        let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default();
        for (customer, on, owner) in &waiting {
            let day: NaiveDate = on
                .parse()
                .map_err(|_| StoreError::Corrupt("care_firings.occasion_on".into()))?;
            let due = day.and_time(nine).and_utc() - Duration::hours(utc_offset_hours);
            let note = format!("{} · {on}", plan.name);
            let task = insert_system_task(
                conn,
                *customer,
                &plan.task_title,
                Some(&note),
                to_ms(due),
                *owner,
                now,
            )
            .await?;
            sqlx::query(
                "UPDATE care_firings SET task_id = $1 \
                 WHERE plan_id = $2 AND customer_id = $3 AND occasion_on = $4",
            )
            .bind(task)
            .bind(plan_id)
            .bind(customer)
            .bind(on.as_str())
            .execute(&mut *conn)
            .await?;
        }
        Ok(waiting.len())
    }
}
