//! One-to-one marketing (一对一营销): a campaign reaches the customers of one or more saved
//! segments, less the excluded ones, through one channel, with content per language and merge
//! fields, on a schedule, optionally with a control group held out (to measure lift) and an
//! A/B test on a sample. What a campaign may send is limited by the contact policy of its
//! channel ([`policy`]), and every message goes through the store's outbox, one row per
//! recipient, so a crash neither loses nor repeats the campaign's progress.

pub mod bounce;
pub mod content;
pub mod policy;
pub mod report;

use serde::{Deserialize, Serialize};

pub use content::{MergeData, Rendered, Variant};
pub use policy::ContactPolicy;

use crate::error::ValidationErrors;
use crate::profile::check_text;

/// Most segments a campaign reaches (and, separately, excludes).
pub const MAX_SEGMENTS: usize = 10;
/// Largest control group, in percent of the audience.
pub const MAX_CONTROL_PERCENT: i64 = 50;
/// Longest attribution window, days.
pub const MAX_ATTRIBUTION_DAYS: i64 = 90;
/// Longest window a send is spread over, hours.
pub const MAX_SPREAD_HOURS: i64 = 24 * 14;

/// How a campaign reaches its customers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// E-mail over SMTP, with unsubscribe, open and click tracking.
    Email,
    /// A text message through the configured SMS provider (an approved template and its
    /// parameters).
    Sms,
    /// A phone-call list: a task for each customer's owner to call them.
    Call,
    /// Direct mail: a mailing list of postal addresses with each recipient's letter, for the
    /// printer (downloaded from the campaign's page).
    Mail,
}

impl Channel {
    /// Every channel, in menu order.
    pub const ALL: [Channel; 4] = [Channel::Email, Channel::Sms, Channel::Call, Channel::Mail];

    /// Storage code.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Call => "call",
            Channel::Mail => "mail",
        }
    }

    /// Parses a storage code.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The contact-point kinds that reach a customer on this channel, best first.
    pub fn contact_kinds(self) -> &'static [&'static str] {
        match self {
            Channel::Email => &["email"],
            Channel::Sms => &["mobile"],
            Channel::Call => &["mobile", "phone"],
            Channel::Mail => &["address"],
        }
    }
}

/// Where a campaign is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CampaignState {
    /// Being written; nothing is read or sent.
    Draft,
    /// Launched, waiting for its start time.
    Scheduled,
    /// Its audience is being read into the outbox and its messages sent.
    Sending,
    /// Stopped by hand or by too many errors; resumes where it stopped.
    Paused,
    /// Every message is sent, skipped or failed.
    Finished,
    /// Stopped for good; unsent messages are dropped.
    Cancelled,
}

impl CampaignState {
    /// Storage code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Scheduled => "scheduled",
            Self::Sending => "sending",
            Self::Paused => "paused",
            Self::Finished => "finished",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parses a storage code.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Draft,
            Self::Scheduled,
            Self::Sending,
            Self::Paused,
            Self::Finished,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }

    /// Whether a user may move a campaign from this state to `to` (the sender moves
    /// scheduled → sending → finished, and sending → paused on errors, itself).
    pub fn may_become(self, to: CampaignState) -> bool {
        use CampaignState::*;
        matches!(
            (self, to),
            (Draft, Scheduled)
                | (Draft, Sending)
                | (Scheduled, Draft)
                | (Scheduled, Cancelled)
                | (Sending, Paused)
                | (Sending, Cancelled)
                | (Paused, Sending)
                | (Paused, Cancelled)
        )
    }
}

/// What an A/B test's winner is chosen by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AbMetric {
    /// Share of sent messages opened.
    Opens,
    /// Share of sent messages clicked.
    Clicks,
    /// Orders within the attribution window per message sent.
    Conversions,
}

/// An A/B test: `sample_percent` of the audience is split between the two variants; after
/// `decide_after_hours` the variant with the better metric goes to the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AbTest {
    /// Share of the audience in the test, percent (the rest gets the winner).
    #[schema(minimum = 2, maximum = 100)]
    pub sample_percent: i64,
    /// How the winner is chosen.
    pub metric: AbMetric,
    /// Hours after the start the winner is chosen.
    #[schema(minimum = 1, maximum = 168)]
    pub decide_after_hours: i64,
}

/// A campaign as its marketer enters it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignInput {
    /// Name, unique among campaigns.
    pub name: String,
    /// How it reaches customers.
    pub channel: Channel,
    /// The saved segments it reaches (a customer in several is reached once).
    pub segments: Vec<i64>,
    /// Saved segments whose customers are left out.
    #[serde(default)]
    pub exclude: Vec<i64>,
    /// Percent of the audience held out and not sent to, to measure lift (0: none).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 50)]
    pub control_percent: i64,
    /// One variant, or two for an A/B test.
    pub variants: Vec<Variant>,
    /// The A/B test, when there are two variants.
    #[serde(default)]
    pub ab: Option<AbTest>,
    /// A coupon offer each recipient is issued a code of (merge field `coupon`).
    #[serde(default)]
    #[schema(minimum = 1)]
    pub offer_id: Option<i64>,
    /// Orders this many days after a message count as its conversions.
    #[schema(minimum = 1, maximum = 90)]
    pub attribution_days: i64,
    /// Spread the sending evenly over this many hours from the start (0: as fast as the
    /// channel's rate allows).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 336)]
    pub spread_hours: i64,
    /// Track opens with a pixel (e-mail; off when privacy asks for it). Clicks are tracked
    /// through redirect links either way.
    #[serde(default)]
    pub track_opens: bool,
    /// Rules may enrol customers one by one (their action `enrol_campaign`) until this day,
    /// inclusive: the campaign keeps sending until then, and may have no segment of its own.
    #[serde(default)]
    pub enrol_until: Option<chrono::NaiveDate>,
}

impl CampaignInput {
    /// Checks every field and returns the campaign trimmed; the segments' and the offer's
    /// existence is the store's to check.
    pub fn validate(&self) -> Result<CampaignInput, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let mut c = self.clone();
        c.name = c.name.trim().to_string();
        if c.name.is_empty() {
            e.push("name", "required");
        }
        check_text(&mut e, "name", Some(&c.name), 80);
        if c.segments.is_empty() && c.enrol_until.is_none() {
            e.push("segments", "required");
        }
        for (field, list) in [("segments", &mut c.segments), ("exclude", &mut c.exclude)] {
            if list.len() > MAX_SEGMENTS {
                e.push(field, "too_many");
            }
            if list.iter().any(|s| *s < 1) {
                e.push(field, "out_of_range");
            }
            list.sort_unstable();
            list.dedup();
        }
        if c.segments.iter().any(|s| c.exclude.contains(s)) {
            e.push("exclude", "conflict");
        }
        if !(0..=MAX_CONTROL_PERCENT).contains(&c.control_percent) {
            e.push("control_percent", "out_of_range");
        }
        if !(1..=MAX_ATTRIBUTION_DAYS).contains(&c.attribution_days) {
            e.push("attribution_days", "out_of_range");
        }
        if !(0..=MAX_SPREAD_HOURS).contains(&c.spread_hours) {
            e.push("spread_hours", "out_of_range");
        }
        if c.offer_id.is_some_and(|o| o < 1) {
            e.push("offer_id", "out_of_range");
        }
        match c.variants.len() {
            0 => e.push("variants", "required"),
            1 | 2 => {}
            _ => e.push("variants", "too_many"),
        }
        for (i, v) in c.variants.iter_mut().enumerate() {
            match v.validate(c.channel, c.offer_id.is_some()) {
                Ok(x) => *v = x,
                Err(x) => {
                    e.0.extend(x.0.into_iter().map(|y| y.under(&format!("variants[{i}]"))))
                }
            }
        }
        match (&c.ab, c.variants.len()) {
            (Some(ab), 2) => {
                if !(2..=100).contains(&ab.sample_percent) {
                    e.push("ab.sample_percent", "out_of_range");
                }
                if !(1..=168).contains(&ab.decide_after_hours) {
                    e.push("ab.decide_after_hours", "out_of_range");
                }
                if ab.metric == AbMetric::Opens && !(c.channel == Channel::Email && c.track_opens) {
                    e.push("ab.metric", "not_tracked");
                }
            }
            (Some(_), _) => e.push("ab", "needs_two_variants"),
            (None, 2) => e.push("ab", "required"),
            (None, _) => {}
        }
        if c.track_opens && c.channel != Channel::Email {
            c.track_opens = false;
        }
        e.finish(|| c)
    }
}

/// Why a customer of the audience gets no message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// No contact point of the channel's kinds.
    NoAddress,
    /// The address was unsubscribed (honoured by transactional messages too).
    Unsubscribed,
    /// The address bounced hard, complained, or bounced softly too often.
    Bounced,
    /// The contact point carries no marketing consent.
    NoConsent,
    /// The customer complained recently: marketing pauses.
    RecentComplaint,
}

impl SkipReason {
    /// Every reason, in the order the preview lists them.
    pub const ALL: [SkipReason; 5] = [
        Self::NoAddress,
        Self::Unsubscribed,
        Self::Bounced,
        Self::NoConsent,
        Self::RecentComplaint,
    ];

    /// Storage code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoAddress => "no_address",
            Self::Unsubscribed => "unsubscribed",
            Self::Bounced => "bounced",
            Self::NoConsent => "no_consent",
            Self::RecentComplaint => "recent_complaint",
        }
    }

    /// Parses a storage code.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Which group a customer of the audience falls in, from a hash of the campaign and the
/// customer, the same on every read (so a resumed preparation puts nobody elsewhere).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Held out, not sent to.
    Control,
    /// In the A/B test's sample, with this variant (0 or 1).
    Sample(usize),
    /// Everyone else (with an A/B test: waits for the winner).
    Rest,
}

/// Buckets 0..1000 of a customer in a campaign: Knuth's multiplicative hash of the id mixed
/// with the campaign, high bits of 32 (the low bits of a product are poorly mixed).
pub fn bucket(campaign_id: i64, customer_id: i64) -> i64 {
    let x = (customer_id.wrapping_add(campaign_id.wrapping_mul(40_503))) as u64;
    let h = x.wrapping_mul(2_654_435_761) % 4_294_967_296;
    (h * 1000 / 4_294_967_296) as i64
}

/// The group of bucket `b` (see [`bucket`]) under the campaign's control and test shares.
pub fn group(c: &CampaignInput, b: i64) -> Group {
    let control = c.control_percent * 10;
    if b < control {
        return Group::Control;
    }
    match c.ab {
        Some(ab) if c.variants.len() == 2 => {
            let rest = 1000 - control;
            let sample = rest * ab.sample_percent / 100;
            let off = b - control;
            if off < sample {
                Group::Sample(if off * 2 < sample { 0 } else { 1 })
            } else {
                Group::Rest
            }
        }
        _ => Group::Sample(0),
    }
}

/// The variant code stored on an outbox row (`a`, `b`).
pub fn variant_code(i: usize) -> &'static str {
    if i == 0 {
        "a"
    } else {
        "b"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(subject: &str) -> Variant {
        Variant {
            subject_zh: subject.into(),
            subject_en: "Hello".into(),
            body_zh: "{{salutation}}，您好".into(),
            body_en: "Dear {{salutation}}".into(),
            sms_template: String::new(),
            sms_params: vec![],
        }
    }

    fn campaign() -> CampaignInput {
        CampaignInput {
            name: " 中秋礼盒 ".into(),
            channel: Channel::Email,
            segments: vec![3, 1, 3],
            exclude: vec![],
            control_percent: 10,
            variants: vec![email("中秋快乐")],
            ab: None,
            offer_id: None,
            attribution_days: 14,
            spread_hours: 0,
            track_opens: true,
            enrol_until: None,
        }
    }

    #[test]
    fn a_campaign_is_checked_field_by_field() {
        let ok = campaign().validate().unwrap();
        assert_eq!(ok.name, "中秋礼盒");
        assert_eq!(ok.segments, [1, 3]);
        let mut bad = campaign();
        bad.segments = vec![];
        bad.exclude = vec![0];
        bad.control_percent = 60;
        bad.attribution_days = 0;
        bad.variants.push(email(""));
        let e = bad.validate().unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|x| x.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "segments",
                "exclude",
                "control_percent",
                "attribution_days",
                "variants[1].subject_zh",
                "ab"
            ]
        );
    }

    #[test]
    fn groups_follow_the_shares() {
        let mut c = campaign();
        c.variants.push(email("B"));
        c.ab = Some(AbTest {
            sample_percent: 20,
            metric: AbMetric::Clicks,
            decide_after_hours: 4,
        });
        let mut counts = [0usize; 4];
        for id in 1..=100_000 {
            match group(&c, bucket(7, id)) {
                Group::Control => counts[0] += 1,
                Group::Sample(0) => counts[1] += 1,
                Group::Sample(_) => counts[2] += 1,
                Group::Rest => counts[3] += 1,
            }
        }
        // 10 % control; 20 % of the other 90 % split in two; the rest waits.
        let share = |n: usize| n as f64 / 100_000.0;
        assert!((share(counts[0]) - 0.10).abs() < 0.01, "{counts:?}");
        assert!((share(counts[1]) - 0.09).abs() < 0.01, "{counts:?}");
        assert!((share(counts[2]) - 0.09).abs() < 0.01, "{counts:?}");
        assert!((share(counts[3]) - 0.72).abs() < 0.01, "{counts:?}");
        // Consecutive ids do not fall in runs.
        let runs = (1..1000)
            .filter(|id| (bucket(7, *id) < 100) && (bucket(7, id + 1) < 100))
            .count();
        assert!(runs < 30, "{runs}");
    }

    #[test]
    fn states_move_only_along_the_allowed_edges() {
        use CampaignState::*;
        assert!(Draft.may_become(Sending));
        assert!(Paused.may_become(Sending));
        assert!(!Finished.may_become(Sending));
        assert!(!Cancelled.may_become(Paused));
        assert!(!Sending.may_become(Draft));
    }
}
