//! The contact-policy page: per channel the frequency cap, the quiet hours, the pause after a
//! complaint, the bounce and error limits and the rate, each channel's form saved on its own;
//! and the suppression list (unsubscribed, bounced and complained addresses, masked).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use guanxi_app::campaign as uc;
use guanxi_domain::campaign::{Channel, ContactPolicy};
use guanxi_domain::role::Permission;
use guanxi_domain::ValidationError;
use guanxi_text::format;

use crate::state::AppState;
use crate::ui::render;
use crate::ui::session::UiError;
use crate::ui::session::{
    field_messages, form_refusal, page_err, Ctx, FormData, Submitted, UiUser,
};

/// One channel's form: its code, label, values as shown, and the errors of a refused save.
struct PolicyForm {
    code: &'static str,
    label: String,
    cap_count: String,
    cap_days: String,
    quiet_start: String,
    quiet_end: String,
    complaint_pause_days: String,
    soft_bounce_limit: String,
    max_errors: String,
    per_second: String,
    errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "campaign/policies.html")]
struct PoliciesTpl {
    ctx: Ctx,
    forms: Vec<PolicyForm>,
    flash: Option<String>,
    /// (channel label, masked address, reason label, soft bounces, when).
    suppressions: Vec<(String, String, String, i64, String)>,
}

/// `HH:MM` of minutes after midnight.
fn clock(minutes: i64) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Minutes after midnight of `HH:MM`.
fn minutes(s: &str) -> Option<i64> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    ((0..24).contains(&h) && (0..60).contains(&m)).then_some(h * 60 + m)
}

fn form_of(ctx: &Ctx, c: Channel, p: &ContactPolicy) -> PolicyForm {
    PolicyForm {
        code: c.as_str(),
        label: ctx.label("campaign_channel", c.as_str()),
        cap_count: p.cap_count.to_string(),
        cap_days: p.cap_days.to_string(),
        quiet_start: clock(p.quiet_start),
        quiet_end: clock(p.quiet_end),
        complaint_pause_days: p.complaint_pause_days.to_string(),
        soft_bounce_limit: p.soft_bounce_limit.to_string(),
        max_errors: p.max_errors.to_string(),
        per_second: p.per_second.to_string(),
        errors: vec![],
    }
}

/// Reads a channel's form; what is not a number or a time is named by its field.
fn policy_of(form: &FormData) -> Result<ContactPolicy, Vec<ValidationError>> {
    let mut errs = Vec::new();
    let mut int = |k: &str| form.int(k, k, &mut errs).unwrap_or(0);
    let (cap_count, cap_days) = (int("cap_count"), int("cap_days"));
    let (complaint_pause_days, soft_bounce_limit) =
        (int("complaint_pause_days"), int("soft_bounce_limit"));
    let (max_errors, per_second) = (int("max_errors"), int("per_second"));
    let mut time = |k: &str| {
        minutes(form.get(k).unwrap_or("")).unwrap_or_else(|| {
            errs.push(ValidationError::new(k, "invalid_format"));
            0
        })
    };
    let (quiet_start, quiet_end) = (time("quiet_start"), time("quiet_end"));
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(ContactPolicy {
        cap_count,
        cap_days,
        quiet_start,
        quiet_end,
        complaint_pause_days,
        soft_bounce_limit,
        max_errors,
        per_second,
    })
}

/// The page, with `refused` (a channel's form as sent and its errors) in place of the stored
/// one.
async fn page(
    st: &AppState,
    user: &UiUser,
    flash: Option<String>,
    refused: Option<PolicyForm>,
    status: StatusCode,
) -> Result<Response, UiError> {
    let ctx = user.ctx("campaign.policies_title");
    let l = user.locale;
    let policies = uc::policies(&st.store, &user.actor)
        .await
        .map_err(page_err(l))?;
    let mut refused = refused;
    let forms = policies
        .iter()
        .map(|(c, p)| match refused.take() {
            Some(r) if r.code == c.as_str() => r,
            other => {
                refused = other;
                form_of(&ctx, *c, p)
            }
        })
        .collect();
    let tz = format::zone(st.utc_offset_hours);
    let suppressions = uc::suppressions(&st.store, &user.actor)
        .await
        .map_err(page_err(l))?
        .into_iter()
        .map(|s| {
            (
                ctx.label("campaign_channel", &s.channel),
                guanxi_domain::masking::mask_address(&s.address),
                ctx.label("campaign_suppression", &s.reason),
                s.soft_count,
                format::datetime(s.at, tz),
            )
        })
        .collect();
    let tpl = PoliciesTpl {
        ctx,
        forms,
        flash,
        suppressions,
    };
    let mut r = render(l, &tpl);
    *r.status_mut() = status;
    Ok(r)
}

/// The contact policies and the suppression list.
pub async fn show(
    State(st): State<AppState>,
    user: UiUser,
    q: FormData,
) -> Result<Response, UiError> {
    user.require(Permission::ManageCampaigns)?;
    let flash = q.get("saved").and_then(Channel::parse).map(|c| {
        user.ctx("campaign.policies_title").tf(
            "campaign.policy_saved",
            &[(
                "channel",
                &user
                    .ctx("campaign.policies_title")
                    .label("campaign_channel", c.as_str()),
            )],
        )
    });
    page(&st, &user, flash, None, StatusCode::OK).await
}

/// Saves one channel's policy.
pub async fn save(
    State(st): State<AppState>,
    Path(channel): Path<String>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::ManageCampaigns)?;
    let Some(channel) = Channel::parse(&channel) else {
        return Err(UiError::BadForm(user.locale));
    };
    let errs = match policy_of(&form) {
        Ok(p) => match uc::save_policy(&st.store, &user.actor, channel, &p).await {
            Ok(_) => {
                return Ok(Redirect::to(&format!(
                    "/campaigns/policies?saved={}#policy-{}",
                    channel.as_str(),
                    channel.as_str()
                ))
                .into_response())
            }
            Err(e) => form_refusal(user.locale, e)?.1,
        },
        Err(errs) => errs,
    };
    let ctx = user.ctx("campaign.policies_title");
    let v = |k: &str| form.get(k).unwrap_or("").to_string();
    let refused = PolicyForm {
        code: channel.as_str(),
        label: ctx.label("campaign_channel", channel.as_str()),
        cap_count: v("cap_count"),
        cap_days: v("cap_days"),
        quiet_start: v("quiet_start"),
        quiet_end: v("quiet_end"),
        complaint_pause_days: v("complaint_pause_days"),
        soft_bounce_limit: v("soft_bounce_limit"),
        max_errors: v("max_errors"),
        per_second: v("per_second"),
        errors: field_messages(user.locale, &errs),
    };
    page(
        &st,
        &user,
        None,
        Some(refused),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_hours_read_and_show_as_clock_times() {
        assert_eq!(minutes("21:00"), Some(1260));
        assert_eq!(minutes("08:30"), Some(510));
        assert_eq!(minutes("24:00"), None);
        assert_eq!(minutes("9"), None);
        assert_eq!(clock(1260), "21:00");
        assert_eq!(clock(0), "00:00");
    }
}
