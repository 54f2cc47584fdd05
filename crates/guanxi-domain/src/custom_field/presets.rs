//! The rest of the seeds' customer file (the seed on customer information), shipped as custom
//! fields an admin switches on in one click: the facts few shops track but a serious file has
//! room for. Health, body, religion, taboos and income are sensitive: masked for readers
//! without the sensitive-data permission, their reads audited like an ID number's.

use super::{AppliesTo, FieldChoice, FieldEntity, FieldInput, FieldKind};

/// One shipped field: code, kind, zh and en labels, sensitivity, who it applies to, choices
/// as `code:中文:English`.
struct Preset {
    code: &'static str,
    kind: FieldKind,
    zh: &'static str,
    en: &'static str,
    sensitive: bool,
    applies_to: AppliesTo,
    choices: &'static [&'static str],
}

const fn p(
    code: &'static str,
    kind: FieldKind,
    zh: &'static str,
    en: &'static str,
    applies_to: AppliesTo,
) -> Preset {
    Preset {
        code,
        kind,
        zh,
        en,
        sensitive: false,
        applies_to,
        choices: &[],
    }
}

const fn sensitive(mut x: Preset) -> Preset {
    x.sensitive = true;
    x
}

const fn choices(mut x: Preset, choices: &'static [&'static str]) -> Preset {
    x.choices = choices;
    x
}

use AppliesTo::{Company, Individual};
use FieldKind::{Choice, Money, MultiChoice, Number, Text};

const HABIT: &[&str] = &[
    "never:从不:Never",
    "occasional:偶尔:Occasionally",
    "regular:经常:Regularly",
];
const LEVEL: &[&str] = &["high:高:High", "medium:中:Medium", "low:低:Low"];

const PRESETS: &[Preset] = &[
    p("native_place", Text, "籍贯", "Native place", Individual),
    p(
        "household_registration",
        Text,
        "户籍",
        "Household registration",
        Individual,
    ),
    sensitive(p(
        "height_cm",
        Number,
        "身高（厘米）",
        "Height (cm)",
        Individual,
    )),
    sensitive(p(
        "weight_kg",
        Number,
        "体重（公斤）",
        "Weight (kg)",
        Individual,
    )),
    sensitive(choices(
        p("blood_type", Choice, "血型", "Blood type", Individual),
        &[
            "a:A型:A",
            "b:B型:B",
            "ab:AB型:AB",
            "o:O型:O",
            "other:其他:Other",
        ],
    )),
    sensitive(p(
        "health_notes",
        Text,
        "健康状况",
        "Health notes",
        Individual,
    )),
    choices(p("smoking", Choice, "吸烟", "Smoking", Individual), HABIT),
    choices(p("drinking", Choice, "饮酒", "Drinking", Individual), HABIT),
    choices(
        p(
            "preferred_media",
            MultiChoice,
            "偏好媒体",
            "Preferred media",
            Individual,
        ),
        &[
            "tv:电视:TV",
            "newspaper:报纸:Newspaper",
            "magazine:杂志:Magazine",
            "radio:广播:Radio",
            "internet:网站:Websites",
            "wechat:微信:WeChat",
            "weibo:微博:Weibo",
            "short_video:短视频:Short video",
        ],
    ),
    p(
        "clubs",
        Text,
        "俱乐部/协会",
        "Clubs and associations",
        Individual,
    ),
    sensitive(p("religion", Text, "宗教信仰", "Religion", Individual)),
    sensitive(p("taboos", Text, "禁忌", "Taboos", Individual)),
    sensitive(p(
        "annual_income",
        Money,
        "年收入",
        "Annual income",
        Individual,
    )),
    p("career_goals", Text, "事业目标", "Career goals", Individual),
    p(
        "children_education",
        Text,
        "子女教育",
        "Children's education",
        Individual,
    ),
    p("fax", Text, "传真", "Fax", AppliesTo::All),
    p(
        "sales_capability",
        Text,
        "销售能力",
        "Sales capability",
        Company,
    ),
    p("performance", Text, "经营业绩", "Performance", Company),
    choices(
        p(
            "growth_potential",
            Choice,
            "发展潜力",
            "Growth potential",
            Company,
        ),
        LEVEL,
    ),
    p("problems", Text, "存在问题", "Problems", Company),
    choices(
        p(
            "cooperation_attitude",
            Choice,
            "合作态度",
            "Cooperation attitude",
            Company,
        ),
        &[
            "positive:积极:Positive",
            "neutral:一般:Neutral",
            "negative:消极:Negative",
        ],
    ),
    choices(
        p("reputation", Choice, "信誉", "Reputation", Company),
        &["good:良好:Good", "fair:一般:Fair", "poor:较差:Poor"],
    ),
];

/// Every shipped preset as the definition input it creates, in the seeds' order.
pub fn preset_inputs() -> Vec<FieldInput> {
    PRESETS
        .iter()
        .enumerate()
        .map(|(i, x)| FieldInput {
            entity: FieldEntity::Customer,
            applies_to: x.applies_to,
            code: x.code.to_string(),
            kind: x.kind,
            label_zh: x.zh.to_string(),
            label_en: x.en.to_string(),
            choices: x
                .choices
                .iter()
                .filter_map(|c| {
                    let mut parts = c.splitn(3, ':');
                    Some(FieldChoice {
                        code: parts.next()?.to_string(),
                        label_zh: parts.next()?.to_string(),
                        label_en: parts.next()?.to_string(),
                    })
                })
                .collect(),
            required: false,
            visible_to: vec![],
            sensitive: x.sensitive,
            position: 1000 + i as i64 * 10,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_a_valid_definition() {
        let all = preset_inputs();
        assert_eq!(all.len(), PRESETS.len());
        for x in &all {
            x.validate().unwrap_or_else(|e| panic!("{}: {e:?}", x.code));
        }
        let mut codes: Vec<_> = all.iter().map(|x| x.code.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        assert!(all.iter().any(|x| x.code == "health_notes" && x.sensitive));
    }
}
