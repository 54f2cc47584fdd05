//! Pipelines and their stages, as the admin defines them: names in the shop's words, a kind
//! (open, won, lost), a default probability, and an order. A team may have several
//! pipelines (new business, renewals, projects).

use serde::{Deserialize, Serialize};

use crate::error::ValidationErrors;
use crate::profile::check_text;
use crate::vocabulary;

/// Most stages in a pipeline.
pub const MAX_STAGES: usize = 12;

vocabulary!(
    /// What reaching a stage means for the deal.
    StageKind {
        /// Still being worked; its probability is a guess.
        Open => "open",
        /// 成交: won (probability 100).
        Won => "won",
        /// 输单: lost (probability 0; a reason is required).
        Lost => "lost",
    }
);

/// One stage as entered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageInput {
    /// The stage's id when it exists (kept, so its deals and history stay with it).
    #[serde(default)]
    #[schema(minimum = 1)]
    pub id: Option<i64>,
    /// Name (1–40 characters).
    pub name: String,
    /// English name for English pages (up to 40 characters).
    #[serde(default)]
    pub name_en: Option<String>,
    /// Open, won or lost.
    pub kind: StageKind,
    /// The default probability of its deals, 0–100 (won is 100, lost 0).
    #[schema(minimum = 0, maximum = 100)]
    pub probability: i64,
}

/// A pipeline as entered: its stages in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PipelineInput {
    /// Name (1–60 characters), unique.
    pub name: String,
    /// The team it belongs to (none: the whole company's).
    #[serde(default)]
    #[schema(minimum = 1)]
    pub team_id: Option<i64>,
    /// Stages in the order deals move through them: at least one open, exactly one won, at
    /// least one lost. On an update, a stored stage left out is retired (kept for its history).
    pub stages: Vec<StageInput>,
    /// Offered for new deals (default yes).
    #[serde(default = "yes")]
    pub active: bool,
    /// The version last read: required to update, ignored on create.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub version: Option<i64>,
}

fn yes() -> bool {
    true
}

impl PipelineInput {
    /// Checks the pipeline and returns it trimmed.
    pub fn validate(&self) -> Result<PipelineInput, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let mut p = self.clone();
        p.name = p.name.trim().to_string();
        if p.name.is_empty() {
            e.push("name", "required");
        }
        check_text(&mut e, "name", Some(&p.name), 60);
        if p.team_id.is_some_and(|t| t < 1) {
            e.push("team_id", "invalid_reference");
        }
        if p.stages.len() < 3 {
            e.push("stages", "too_few");
        }
        if p.stages.len() > MAX_STAGES {
            e.push("stages", "too_many");
        }
        let count = |k: StageKind| p.stages.iter().filter(|s| s.kind == k).count();
        if !p.stages.is_empty() && count(StageKind::Open) == 0 {
            e.push("stages", "no_open_stage");
        }
        if !p.stages.is_empty() && count(StageKind::Won) != 1 {
            e.push("stages", "one_won_stage");
        }
        if !p.stages.is_empty() && count(StageKind::Lost) == 0 {
            e.push("stages", "no_lost_stage");
        }
        let mut names: Vec<String> = Vec::new();
        for (i, s) in p.stages.iter_mut().enumerate() {
            let field = |f: &str| format!("stages[{i}].{f}");
            s.name = s.name.trim().to_string();
            if s.name.is_empty() {
                e.push(field("name"), "required");
            }
            check_text(&mut e, &field("name"), Some(&s.name), 40);
            s.name_en = crate::customer::trimmed(&s.name_en);
            check_text(&mut e, &field("name_en"), s.name_en.as_deref(), 40);
            if names.contains(&s.name) {
                e.push(field("name"), "duplicate");
            }
            names.push(s.name.clone());
            if !(0..=100).contains(&s.probability) {
                e.push(field("probability"), "out_of_range");
            }
            match s.kind {
                StageKind::Won => s.probability = 100,
                StageKind::Lost => s.probability = 0,
                StageKind::Open => {}
            }
            if s.id.is_some_and(|id| id < 1) {
                e.push(field("id"), "invalid_reference");
            }
        }
        if e.is_empty() {
            Ok(p)
        } else {
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stages the migration seeds (prospect … negotiation, won, lost).
    fn default_pipeline() -> PipelineInput {
        let stage = |name: &str, kind, probability| StageInput {
            id: None,
            name: name.into(),
            name_en: None,
            kind,
            probability,
        };
        PipelineInput {
            name: "销售机会".into(),
            team_id: None,
            stages: vec![
                stage("潜在客户", StageKind::Open, 10),
                stage("目标客户", StageKind::Open, 20),
                stage("识别需求", StageKind::Open, 40),
                stage("方案计划", StageKind::Open, 60),
                stage("商务谈判", StageKind::Open, 80),
                stage("成交", StageKind::Won, 100),
                stage("输单", StageKind::Lost, 0),
            ],
            active: true,
            version: None,
        }
    }

    #[test]
    fn the_default_pipeline_is_valid() {
        let p = default_pipeline().validate().unwrap();
        assert_eq!(p.stages.len(), 7);
    }

    #[test]
    fn a_pipeline_needs_open_won_and_lost_stages_with_distinct_names() {
        let mut p = default_pipeline();
        p.stages.retain(|s| s.kind == StageKind::Open);
        p.stages[1].name = p.stages[0].name.clone();
        p.stages[2].probability = 120;
        let e = p.validate().unwrap_err();
        let codes: Vec<(String, String)> =
            e.0.iter()
                .map(|x| (x.field.clone(), x.code.clone()))
                .collect();
        assert!(codes.contains(&("stages".into(), "one_won_stage".into())));
        assert!(codes.contains(&("stages".into(), "no_lost_stage".into())));
        assert!(codes.contains(&("stages[1].name".into(), "duplicate".into())));
        assert!(codes.contains(&("stages[2].probability".into(), "out_of_range".into())));
    }

    #[test]
    fn won_and_lost_stages_carry_certain_probabilities() {
        let mut p = default_pipeline();
        p.stages[5].probability = 70;
        p.stages[6].probability = 30;
        let p = p.validate().unwrap();
        assert_eq!((p.stages[5].probability, p.stages[6].probability), (100, 0));
    }
}
