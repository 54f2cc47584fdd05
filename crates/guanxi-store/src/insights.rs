//! Aggregates of the stored scores for the analytics dashboard, within the reader's record
//! scope: the R × F grid, the value-matrix quadrants, the revenue of customers in rank order
//! (for the Pareto curve), the CLV distribution and leaders, and the customers most at risk.

use guanxi_domain::role::Actor;

use crate::customers::push_scope;
use crate::db::Store;
use crate::error::Result;
use crate::sql::SqlBuilder;

/// One cell of an aggregate: a key, how many customers, their revenue (minor units).
#[derive(Debug, Clone, PartialEq, serde::Serialize, sqlx::FromRow)]
pub struct Cell {
    /// The key (segment, value cell, "r,f").
    pub key: String,
    /// Customers.
    pub customers: i64,
    /// Their revenue, minor units.
    pub revenue_minor: i64,
}

/// One customer in a ranked list.
#[derive(Debug, Clone, PartialEq, serde::Serialize, sqlx::FromRow)]
pub struct RankedCustomer {
    /// Customer id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// CLV, minor units.
    pub clv_minor: Option<i64>,
    /// Churn probability.
    pub churn_probability: Option<f64>,
    /// Main churn reason code.
    pub churn_reason: Option<String>,
    /// Days since the last order.
    pub recency_days: i64,
    /// Revenue, minor units.
    pub monetary_minor: i64,
    /// RFM segment code.
    pub rfm_segment: String,
}

/// Everything the analytics dashboard shows.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Insights {
    /// Customers per (R score, F score), key `"r,f"`.
    pub rf_grid: Vec<Cell>,
    /// Customers per RFM segment.
    pub segments: Vec<Cell>,
    /// Customers per value-matrix cell.
    pub value_cells: Vec<Cell>,
    /// Revenue per customer, largest first (the Pareto curve).
    pub revenue_ranked: Vec<i64>,
    /// CLV of every scored customer in scope, minor units (the distribution).
    pub clv: Vec<i64>,
    /// Highest CLV first.
    pub top_clv: Vec<RankedCustomer>,
    /// Highest churn probability first (among customers who are not lost yet).
    pub churn_risk: Vec<RankedCustomer>,
}

const RANKED: &str = "c.id, c.name, s.clv_minor, s.churn_probability, s.churn_reason, \
    s.recency_days, s.monetary_minor, s.rfm_segment";

impl Store {
    /// The analytics dashboard for `actor`; `top` customers in each ranked list.
    pub async fn insights(&self, actor: &Actor, top: i64) -> Result<Insights> {
        let mut conn = self.read.acquire().await?;
        let from = " FROM customer_scores s JOIN customers c ON c.id = s.customer_id \
                    WHERE c.deleted_at IS NULL";
        let grouped = |key: &str| {
            let mut q = SqlBuilder::new(&format!(
                "SELECT {key} AS key, COUNT(*) AS customers, \
                 CAST(COALESCE(SUM(s.monetary_minor), 0) AS BIGINT) AS revenue_minor{from}"
            ));
            push_scope(&mut q, actor);
            q.push(" GROUP BY 1 ORDER BY 1");
            q
        };
        let rf = grouped("CAST(s.r_score AS TEXT) || ',' || CAST(s.f_score AS TEXT)");
        let rf_grid: Vec<Cell> = rf.query_as().fetch_all(&mut *conn).await?;
        let segments: Vec<Cell> = grouped("s.rfm_segment")
            .query_as()
            .fetch_all(&mut *conn)
            .await?;
        let value_cells: Vec<Cell> = grouped("s.value_cell")
            .query_as()
            .fetch_all(&mut *conn)
            .await?;

        let mut q = SqlBuilder::new(&format!("SELECT s.monetary_minor{from}"));
        push_scope(&mut q, actor);
        q.push(" ORDER BY s.monetary_minor DESC");
        let revenue_ranked: Vec<i64> = q
            .query_as::<(i64,)>()
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|r| r.0)
            .collect();

        let mut q = SqlBuilder::new(&format!(
            "SELECT s.clv_minor{from} AND s.clv_minor IS NOT NULL"
        ));
        push_scope(&mut q, actor);
        let clv: Vec<i64> = q
            .query_as::<(i64,)>()
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|r| r.0)
            .collect();

        let mut q = SqlBuilder::new(&format!(
            "SELECT {RANKED}{from} AND s.clv_minor IS NOT NULL"
        ));
        push_scope(&mut q, actor);
        q.push(" ORDER BY s.clv_minor DESC, c.id LIMIT ").int(top);
        let top_clv: Vec<RankedCustomer> = q.query_as().fetch_all(&mut *conn).await?;

        let mut q = SqlBuilder::new(&format!(
            "SELECT {RANKED}{from} AND s.churn_probability IS NOT NULL AND s.activity <> 'lost'"
        ));
        push_scope(&mut q, actor);
        q.push(" ORDER BY s.churn_probability DESC, s.monetary_minor DESC, c.id LIMIT ")
            .int(top);
        let churn_risk: Vec<RankedCustomer> = q.query_as().fetch_all(&mut *conn).await?;

        Ok(Insights {
            rf_grid,
            segments,
            value_cells,
            revenue_ranked,
            clv,
            top_clv,
            churn_risk,
        })
    }
}
