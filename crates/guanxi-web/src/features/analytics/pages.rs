//! The analytics dashboard: RFM grid, value matrix, Pareto curve with the 80/20 point, segment
//! sizes, CLV distribution and leaders, churn-risk list with reasons. Every chart clicks through
//! to the customers behind it; all figures are within the reader's record scope.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use guanxi_domain::role::Permission;
use guanxi_store::insights::RankedCustomer;
use serde_json::json;

use crate::state::AppState;
use crate::ui::format;
use crate::ui::render;
use crate::ui::session::{Ctx, UiError, UiUser};
use guanxi_domain::segment::{RFM_SEGMENTS as SEGMENTS, VALUE_CELLS};

struct RankedView {
    id: i64,
    name: String,
    clv: String,
    churn: String,
    reason: String,
    recency: String,
    revenue: String,
    segment: String,
}

#[derive(Template)]
#[template(path = "analytics/page.html")]
struct AnalyticsTpl {
    ctx: Ctx,
    scored: usize,
    summary: String,
    pareto_text: String,
    rf_chart: String,
    value_chart: String,
    pareto_chart: String,
    segment_chart: String,
    clv_chart: String,
    history_chart: String,
    top_clv: Vec<RankedView>,
    churn: Vec<RankedView>,
}

/// Share of revenue of the top `share` of customers (ranked by revenue, largest first).
pub fn top_share(ranked: &[i64], share: f64) -> f64 {
    let total: i64 = ranked.iter().sum();
    if total <= 0 || ranked.is_empty() {
        return 0.0;
    }
    let k = ((ranked.len() as f64) * share).ceil() as usize;
    ranked.iter().take(k).sum::<i64>() as f64 / total as f64
}

/// The Lorenz-style Pareto curve as at most `points` (customer share, revenue share) pairs.
pub fn pareto_points(ranked: &[i64], points: usize) -> Vec<(f64, f64)> {
    let total: i64 = ranked.iter().sum();
    if total <= 0 || ranked.is_empty() {
        return Vec::new();
    }
    let n = ranked.len();
    let step = n.div_ceil(points.max(1)).max(1);
    let mut out = vec![(0.0, 0.0)];
    let mut cum = 0i64;
    for (i, v) in ranked.iter().enumerate() {
        cum += v;
        if (i + 1) % step == 0 || i + 1 == n {
            out.push(((i + 1) as f64 / n as f64, cum as f64 / total as f64));
        }
    }
    out
}

/// Equal-width histogram of `values` over [0, p99] in `bins` bins (the top 1 % go in the last).
pub fn histogram(values: &[i64], bins: usize) -> (Vec<i64>, Vec<i64>) {
    if values.is_empty() || bins == 0 {
        return (Vec::new(), Vec::new());
    }
    let mut v = values.to_vec();
    v.sort_unstable();
    let hi = v[((v.len() - 1) as f64 * 0.99) as usize].max(1);
    let width = (hi as f64 / bins as f64).ceil().max(1.0) as i64;
    let mut counts = vec![0i64; bins];
    for x in &v {
        let b = ((x.max(&0) / width) as usize).min(bins - 1);
        counts[b] += 1;
    }
    ((0..bins as i64).map(|b| b * width).collect(), counts)
}

/// The customers behind each bar of the CLV histogram: a rule "CLV at least the bar's lower
/// edge and at most the next edge less one fen" (the first bar has no lower bound, the last no
/// upper), so the list counts exactly the customers in the bar.
fn clv_links(edges: &[i64]) -> Vec<String> {
    let yuan = |fen: i64| format!("{}.{:02}", fen.div_euclid(100), fen.rem_euclid(100));
    (0..edges.len())
        .map(|b| {
            let mut clauses = Vec::new();
            if b > 0 {
                clauses.push(json!({"field": "clv", "op": "gte", "value": yuan(edges[b])}));
            }
            if let Some(next) = edges.get(b + 1) {
                clauses.push(json!({"field": "clv", "op": "lte", "value": yuan(next - 1)}));
            }
            crate::features::customers::list::list_link(
                &json!({"match": "all", "clauses": clauses}),
            )
        })
        .collect()
}

fn ranked_view(ctx: &Ctx, r: RankedCustomer) -> RankedView {
    RankedView {
        id: r.id,
        name: r.name,
        clv: r
            .clv_minor
            .map(|v| format::money(v, "CNY"))
            .unwrap_or_default(),
        churn: r.churn_probability.map(format::percent).unwrap_or_default(),
        reason: r
            .churn_reason
            .as_deref()
            .map(|c| ctx.label("churn_reason", c))
            .unwrap_or_default(),
        recency: ctx.tf("scores.days_ago", &[("n", &r.recency_days.to_string())]),
        revenue: format::money(r.monetary_minor, "CNY"),
        segment: ctx.label("rfm_segment", &r.rfm_segment),
    }
}

/// GET /analytics.
pub async fn page(State(st): State<AppState>, user: UiUser) -> Result<Response, UiError> {
    user.require(Permission::ReadCustomers)?;
    let l = user.locale;
    let i = guanxi_app::analytics::insights(&st.store, &user.actor, 20)
        .await
        .map_err(|e| UiError::from_api(l, e.into()))?;
    let ctx = user.ctx("analytics.title");
    let scored = i.revenue_ranked.len();

    // R × F heat map: x = F score, y = R score; each cell links to its customers.
    let mut data = Vec::new();
    let mut links = Vec::new();
    for c in &i.rf_grid {
        if let Some((r, f)) = c.key.split_once(',') {
            let (r, f): (i64, i64) = (r.parse().unwrap_or(0), f.parse().unwrap_or(0));
            data.push(json!([
                f - 1,
                r - 1,
                c.customers,
                (c.revenue_minor + 50).div_euclid(100)
            ]));
            links.push(format!("/customers?rf={r},{f}"));
        }
    }
    let max = i.rf_grid.iter().map(|c| c.customers).max().unwrap_or(1);
    let rf_chart = json!({
        "tooltip": {"position": "top"},
        "grid": {"left": 60, "bottom": 50},
        "xAxis": {"type": "category", "name": ctx.t("analytics.f_axis"), "nameLocation": "middle", "nameGap": 30, "data": ["F1", "F2", "F3", "F4", "F5"]},
        "yAxis": {"type": "category", "name": ctx.t("analytics.r_axis"), "data": ["R1", "R2", "R3", "R4", "R5"]},
        "visualMap": {"min": 0, "max": max, "dimension": 2, "calculable": false, "show": false, "inRange": {"color": ["#fdf1ef", "#b83227"]}},
        "series": [{"type": "heatmap", "name": ctx.t("dashboard.customers"), "data": data, "label": {"show": true}}],
        "links": links,
    });

    let value_order: Vec<&str> = VALUE_CELLS.to_vec();
    let cell = |k: &str| i.value_cells.iter().find(|c| c.key == k);
    let value_chart = json!({
        "tooltip": {"trigger": "axis"},
        "legend": {},
        "xAxis": {"type": "category", "data": value_order.iter().map(|k| ctx.label("value_cell", k)).collect::<Vec<_>>(), "axisLabel": {"interval": 0, "width": 90, "overflow": "break"}},
        "yAxis": [{"type": "value", "name": ctx.t("dashboard.customers")}, {"type": "value", "name": ctx.t("dashboard.revenue_yuan")}],
        "series": [
            {"type": "bar", "name": ctx.t("dashboard.customers"), "data": value_order.iter().map(|k| cell(k).map_or(0, |c| c.customers)).collect::<Vec<_>>()},
            {"type": "bar", "name": ctx.t("dashboard.revenue_yuan"), "yAxisIndex": 1, "data": value_order.iter().map(|k| cell(k).map_or(0, |c| (c.revenue_minor + 50).div_euclid(100))).collect::<Vec<_>>()},
        ],
        "links": value_order.iter().map(|k| format!("/customers?cell={k}")).collect::<Vec<_>>(),
    });

    let share20 = top_share(&i.revenue_ranked, 0.2);
    let pts = pareto_points(&i.revenue_ranked, 200);
    let pareto_chart = json!({
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "value", "name": ctx.t("analytics.customer_share"), "nameLocation": "middle", "nameGap": 28, "min": 0, "max": 100},
        "yAxis": {"type": "value", "name": ctx.t("analytics.revenue_share"), "min": 0, "max": 100},
        "series": [{"type": "line", "showSymbol": false, "name": ctx.t("analytics.revenue_share"),
            "data": pts.iter().map(|(x, y)| json!([(x * 1000.0).round() / 10.0, (y * 1000.0).round() / 10.0])).collect::<Vec<_>>(),
            "markPoint": {"data": [{"name": "20%", "coord": [20, (share20 * 1000.0).round() / 10.0], "value": format::percent(share20)}]},
            "markLine": {"symbol": "none", "data": [{"xAxis": 20}, {"yAxis": 80}]}}],
        "links": pts.iter().map(|_| "/customers?tier=A").collect::<Vec<_>>(),
    });

    let seg = |k: &str| {
        i.segments
            .iter()
            .find(|c| c.key == k)
            .map_or(0, |c| c.customers)
    };
    let segment_chart = json!({
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 130},
        "xAxis": {"type": "value"},
        "yAxis": {"type": "category", "inverse": true, "axisLabel": {"interval": 0}, "data": SEGMENTS.iter().map(|k| ctx.label("rfm_segment", k)).collect::<Vec<_>>()},
        "series": [{"type": "bar", "name": ctx.t("dashboard.customers"), "data": SEGMENTS.iter().map(|k| seg(k)).collect::<Vec<_>>()}],
        "links": SEGMENTS.iter().map(|k| format!("/customers?segment={k}")).collect::<Vec<_>>(),
    });

    let (edges, counts) = histogram(&i.clv, 20);
    let clv_chart = json!({
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "category", "name": ctx.t("analytics.clv_yuan"), "nameLocation": "middle", "nameGap": 28,
            "data": edges.iter().map(|e| format!("≥{}", format::thousands(e / 100))).collect::<Vec<_>>()},
        "yAxis": {"type": "value", "name": ctx.t("dashboard.customers")},
        "series": [{"type": "bar", "name": ctx.t("dashboard.customers"), "data": counts}],
        "links": clv_links(&edges),
    });

    // Segment sizes over time: whole-book figures, so only for readers who see the whole book.
    let history_chart = if user.actor.scope == guanxi_domain::role::RecordScope::All {
        let h = guanxi_app::analytics::segment_history(&st.store, &user.actor, 30)
            .await
            .map_err(|e| UiError::from_api(l, e.into()))?;
        let mut times: Vec<i64> = h.iter().map(|r| r.0).collect();
        times.dedup();
        if times.len() < 2 {
            String::new()
        } else {
            let tz = format::zone(st.utc_offset_hours);
            let series: Vec<_> = SEGMENTS
                .iter()
                .map(|seg| {
                    let data: Vec<i64> = times
                        .iter()
                        .map(|t| {
                            h.iter()
                                .find(|r| r.0 == *t && r.1 == *seg)
                                .map_or(0, |r| r.2)
                        })
                        .collect();
                    json!({"type": "line", "name": ctx.label("rfm_segment", seg), "data": data})
                })
                .collect();
            json!({
                "tooltip": {"trigger": "axis"},
                "legend": {"type": "scroll"},
                "xAxis": {"type": "category", "data": times.iter().map(|t| chrono::DateTime::from_timestamp_millis(*t).map(|d| format::datetime(d, tz)).unwrap_or_default()).collect::<Vec<_>>()},
                "yAxis": {"type": "value", "name": ctx.t("dashboard.customers")},
                "series": series,
                "series_links": SEGMENTS.iter().map(|k| format!("/customers?segment={k}")).collect::<Vec<_>>(),
            })
            .to_string()
        }
    } else {
        String::new()
    };
    let tpl = AnalyticsTpl {
        history_chart,
        summary: ctx.count("analytics.summary", scored as i64),
        pareto_text: ctx.tf("analytics.pareto_text", &[("p", &format::percent(share20))]),
        top_clv: i
            .top_clv
            .into_iter()
            .map(|r| ranked_view(&ctx, r))
            .collect(),
        churn: i
            .churn_risk
            .into_iter()
            .map(|r| ranked_view(&ctx, r))
            .collect(),
        rf_chart: rf_chart.to_string(),
        value_chart: value_chart.to_string(),
        pareto_chart: pareto_chart.to_string(),
        segment_chart: segment_chart.to_string(),
        clv_chart: clv_chart.to_string(),
        scored,
        ctx,
    };
    Ok(render(l, &tpl))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pareto_figures() {
        // 10 customers: the top 2 (20 %) bring 80 of 100.
        let ranked = [50, 30, 5, 5, 2, 2, 2, 2, 1, 1];
        assert!((top_share(&ranked, 0.2) - 0.8).abs() < 1e-12);
        let pts = pareto_points(&ranked, 5);
        assert_eq!(pts.first(), Some(&(0.0, 0.0)));
        assert_eq!(pts.last(), Some(&(1.0, 1.0)));
        assert_eq!(pts[1], (0.2, 0.8));
        assert_eq!(top_share(&[], 0.2), 0.0);
    }

    #[test]
    fn histogram_bins() {
        let (edges, counts) = histogram(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 1000], 4);
        assert_eq!(counts.iter().sum::<i64>(), 10);
        assert_eq!(edges.len(), 4);
        // p99 is 8, so bins are 2 wide: 6, 7, 8 and the outlier 1000 share the last one.
        assert_eq!(counts, vec![2, 2, 2, 4]);
        assert_eq!(edges, vec![0, 2, 4, 6]);
    }
}
