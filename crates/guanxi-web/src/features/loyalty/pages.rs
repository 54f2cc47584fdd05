//! The points section of the 360 page and its correction form.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use guanxi_domain::role::Permission;
use guanxi_store::loyalty::EntryKind;
use guanxi_text::format;

use guanxi_app::loyalty as uc;

use crate::state::AppState;
use crate::ui::session::{form_refusal, page_err, Ctx, Submitted, UiError, UiUser};

/// What the 360 page shows of a member's points.
pub struct PointsSection {
    /// The balance (the sum of the ledger).
    pub balance: i64,
    /// Points owed from a refund after they were spent.
    pub debt: i64,
    /// "120 points expire on 2027-06-30", if any lot expires.
    pub next_expiry: Option<String>,
    /// Latest entries: (date, kind label, signed points, remaining/expiry note, reason).
    pub ledger: Vec<(String, String, String, String, String)>,
    /// "金卡 · since 2026-12-01 (会员计划)", when the customer is a member.
    pub tier: Option<String>,
    /// May correct points.
    pub can_adjust: bool,
    /// A fresh one-time value for the correction form (a form sent twice corrects once).
    pub nonce: String,
}

fn kind_code(k: EntryKind) -> &'static str {
    k.as_str()
}

/// Loads the 360 page's points section.
pub async fn section(
    st: &AppState,
    user: &UiUser,
    ctx: &Ctx,
    id: i64,
    tz: chrono::FixedOffset,
) -> Result<PointsSection, UiError> {
    let (balance, ledger) = uc::points(&st.store, &user.actor, id)
        .await
        .map_err(page_err(user.locale))?;
    let tier = uc::membership(&st.store, &user.actor, id)
        .await
        .map_err(page_err(user.locale))?
        .map(|(program, tier, since)| {
            let mut t = tier;
            if let Some(s) = since {
                t.push_str(" · ");
                t.push_str(&ctx.tf("loyalty.tier_since", &[("date", &format::date(s, tz))]));
            }
            format!("{t} ({program})")
        });
    Ok(PointsSection {
        tier,
        balance: balance.points,
        debt: balance.debt,
        next_expiry: balance.lots.iter().find_map(|(exp, pts)| {
            exp.map(|e| {
                ctx.tf(
                    "points.next_expiry",
                    &[("n", &pts.to_string()), ("date", &format::date(e, tz))],
                )
            })
        }),
        ledger: ledger
            .iter()
            .map(|e| {
                let note = match (e.remaining, e.expires_at) {
                    (Some(r), Some(x)) => ctx.tf(
                        "points.left_until",
                        &[("n", &r.to_string()), ("date", &format::date(x, tz))],
                    ),
                    (Some(r), None) => ctx.tf("points.left", &[("n", &r.to_string())]),
                    _ => String::new(),
                };
                (
                    format::date(e.at, tz),
                    ctx.label("points_entry", kind_code(e.kind)),
                    format!("{:+}", e.points),
                    note,
                    e.reason.clone().unwrap_or_default(),
                )
            })
            .collect(),
        can_adjust: user.actor.can(Permission::AdjustPoints),
        nonce: guanxi_app::sessions::random_secret(),
    })
}

/// Corrects a member's points from the 360 page.
pub async fn adjust(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::AdjustPoints)?;
    let points = form
        .get("points")
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(0);
    match uc::adjust(
        &st.store,
        &user.actor,
        id,
        points,
        form.get("reason").unwrap_or(""),
        form.get("nonce").unwrap_or(""),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/customers/{id}?saved=points#points")).into_response()),
        Err(e) => {
            let (_, errs) = form_refusal(user.locale, e)?;
            let code = errs.first().map(|e| e.code.as_str()).unwrap_or_default();
            let saved = if code == "insufficient_points" {
                "points_insufficient"
            } else {
                "points_invalid"
            };
            Ok(Redirect::to(&format!("/customers/{id}?saved={saved}#points")).into_response())
        }
    }
}
