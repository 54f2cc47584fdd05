//! The knowledge base (FAQ): articles in Chinese and English that agents search from a ticket
//! and link as "this answered it", with helpful votes and view counts. Search terms are cut by
//! [`terms`] so that two-character Chinese words and mixed queries ("iPhone 屏幕") are found the
//! same way on SQLite and PostgreSQL.

pub mod terms;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ValidationErrors;
use crate::profile::check_text;
use crate::records::RowMeta;
use crate::vocabulary;

/// Longest title.
pub const MAX_TITLE: usize = 200;
/// Longest body.
pub const MAX_BODY: usize = 20_000;
/// Most tags on an article.
pub const MAX_TAGS: usize = 20;

vocabulary!(
    /// Where an article stands: drafts and archived articles are for editors only.
    ArticleStatus { Draft => "draft", Published => "published", Archived => "archived" }
);

/// An article as an editor writes it (create and full update).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleInput {
    /// Chinese title.
    #[serde(default)]
    pub title_zh: Option<String>,
    /// Chinese text.
    #[serde(default)]
    pub body_zh: Option<String>,
    /// English title.
    #[serde(default)]
    pub title_en: Option<String>,
    /// English text.
    #[serde(default)]
    pub body_en: Option<String>,
    /// Ticket category it answers.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub category_id: Option<i64>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Status; a draft when absent.
    #[serde(default)]
    pub status: Option<ArticleStatus>,
    /// The version read, for an update (ignored on create).
    #[serde(default)]
    pub version: Option<i64>,
}

fn clean(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

impl ArticleInput {
    /// Trims, checks lengths, needs a title in at least one language, and a body for every
    /// title given.
    pub fn validate(self) -> Result<ArticleInput, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let (title_zh, body_zh) = (clean(self.title_zh), clean(self.body_zh));
        let (title_en, body_en) = (clean(self.title_en), clean(self.body_en));
        for (f, v, max) in [
            ("title_zh", &title_zh, MAX_TITLE),
            ("title_en", &title_en, MAX_TITLE),
            ("body_zh", &body_zh, MAX_BODY),
            ("body_en", &body_en, MAX_BODY),
        ] {
            check_text(&mut e, f, v.as_deref(), max);
        }
        if title_zh.is_none() && title_en.is_none() {
            e.push("title_zh", "required");
        }
        if title_zh.is_some() && body_zh.is_none() {
            e.push("body_zh", "required");
        }
        if title_en.is_some() && body_en.is_none() {
            e.push("body_en", "required");
        }
        let mut tags: Vec<String> = Vec::new();
        for t in &self.tags {
            let t = t.trim();
            if t.is_empty() {
                continue;
            }
            if t.chars().count() > 40 || t.contains(',') || t.chars().any(char::is_control) {
                e.push("tags", "invalid_characters");
            } else if !tags.iter().any(|x| x == t) {
                tags.push(t.to_string());
            }
        }
        if tags.len() > MAX_TAGS {
            e.push("tags", "too_many");
        }
        if self.category_id.is_some_and(|c| c < 1) {
            e.push("category_id", "invalid_reference");
        }
        if !e.is_empty() {
            return Err(e);
        }
        Ok(ArticleInput {
            title_zh,
            body_zh,
            title_en,
            body_en,
            category_id: self.category_id,
            tags,
            status: self.status,
            version: self.version,
        })
    }

    /// All the text the search index covers.
    pub fn searchable(&self) -> String {
        [&self.title_zh, &self.title_en, &self.body_zh, &self.body_en]
            .into_iter()
            .flatten()
            .cloned()
            .chain(self.tags.iter().cloned())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// An article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Article {
    /// Id.
    pub id: i64,
    /// Chinese title.
    pub title_zh: Option<String>,
    /// Chinese text.
    pub body_zh: Option<String>,
    /// English title.
    pub title_en: Option<String>,
    /// English text.
    pub body_en: Option<String>,
    /// Category.
    pub category_id: Option<i64>,
    /// Tags.
    pub tags: Vec<String>,
    /// Status.
    pub status: ArticleStatus,
    /// Times opened.
    pub views: i64,
    /// "Helpful" votes.
    pub helpful: i64,
    /// "Not helpful" votes.
    pub not_helpful: i64,
    /// Tickets it answered.
    pub linked_tickets: i64,
    /// When it was published.
    pub published_at: Option<DateTime<Utc>>,
    /// Row metadata.
    pub meta: RowMeta,
}

/// A piece of a search snippet: text, and whether it matched the query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SnippetPiece {
    /// Text (plain; a page escapes it and marks matches).
    pub text: String,
    /// Part of a match.
    pub hit: bool,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ArticleHit {
    /// Article.
    pub id: i64,
    /// Title in the reader's language (the other one when missing).
    pub title: String,
    /// Where the query matched, with the matches marked.
    pub snippet: Vec<SnippetPiece>,
    /// Relevance (occurrences, titles count three times).
    pub score: i64,
    /// Status (editors also see drafts).
    pub status: ArticleStatus,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_a_title_and_its_body() {
        let a = ArticleInput {
            title_zh: Some(" 如何退款 ".into()),
            body_zh: None,
            title_en: None,
            body_en: None,
            category_id: None,
            tags: vec!["退款".into(), "退款".into(), " ".into()],
            status: None,
            version: None,
        };
        let e = a.clone().validate().unwrap_err();
        assert_eq!(e.0[0].field, "body_zh");
        let ok = ArticleInput {
            body_zh: Some("在订单页申请。".into()),
            ..a
        }
        .validate()
        .unwrap();
        assert_eq!(ok.title_zh.as_deref(), Some("如何退款"));
        assert_eq!(ok.tags, ["退款"]);
        assert!(ok.searchable().contains("订单页"));
    }
}
