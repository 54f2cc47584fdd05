//! The knowledge base: articles, their search index (`kb_terms`, rewritten with each save in
//! the same transaction), search with highlighted snippets, view counts, one vote per user,
//! and the tickets an article answered.

use chrono::Utc;
use guanxi_domain::knowledge::terms::{index_terms, query_terms, snippet};
use guanxi_domain::knowledge::{Article, ArticleHit, ArticleInput, ArticleStatus, SnippetPiece};
use guanxi_domain::role::Actor;
use guanxi_domain::ValidationErrors;
use serde_json::json;
use sqlx::AnyConnection;

use crate::audit::{record, AuditEvent};
use crate::db::{from_ms, to_ms, Store};
use crate::error::{Result, StoreError};
use crate::rows::{code, meta};
use crate::sql::SqlBuilder;

/// Weight of a term found in a title, against 1 in a body.
const TITLE_WEIGHT: i64 = 3;
/// Most terms a query may ask for (a pasted paragraph is cut here).
const MAX_QUERY_TERMS: usize = 12;
/// Characters of a result's snippet.
const SNIPPET_CHARS: usize = 90;

#[derive(sqlx::FromRow)]
struct ArticleRow {
    id: i64,
    title_zh: Option<String>,
    body_zh: Option<String>,
    title_en: Option<String>,
    body_en: Option<String>,
    category_id: Option<i64>,
    tags: String,
    status: String,
    views: i64,
    helpful: i64,
    not_helpful: i64,
    linked_tickets: i64,
    published_at: Option<i64>,
    version: i64,
    created_at: i64,
    updated_at: i64,
    created_by: Option<i64>,
    updated_by: Option<i64>,
}

impl ArticleRow {
    fn into_record(self) -> Result<Article> {
        Ok(Article {
            id: self.id,
            title_zh: self.title_zh,
            body_zh: self.body_zh,
            title_en: self.title_en,
            body_en: self.body_en,
            category_id: self.category_id,
            tags: self
                .tags
                .split(',')
                .filter(|t| !t.is_empty())
                .map(String::from)
                .collect(),
            status: code(ArticleStatus::parse, &self.status, "article status")?,
            views: self.views,
            helpful: self.helpful,
            not_helpful: self.not_helpful,
            linked_tickets: self.linked_tickets,
            published_at: self.published_at.map(from_ms),
            meta: meta(
                self.version,
                self.created_at,
                self.updated_at,
                self.created_by,
                self.updated_by,
            ),
        })
    }
}

const ARTICLE_SELECT: &str = "SELECT a.id, a.title_zh, a.body_zh, a.title_en, a.body_en, \
    a.category_id, a.tags, a.status, a.views, \
    (SELECT COUNT(*) FROM kb_votes v WHERE v.article_id = a.id AND v.helpful = TRUE) AS helpful, \
    (SELECT COUNT(*) FROM kb_votes v WHERE v.article_id = a.id AND v.helpful = FALSE) AS not_helpful, \
    (SELECT COUNT(*) FROM kb_ticket_links l WHERE l.article_id = a.id) AS linked_tickets, \
    a.published_at, a.version, a.created_at, a.updated_at, a.created_by, a.updated_by \
    FROM kb_articles a";

async fn load(conn: &mut AnyConnection, id: i64) -> Result<Article> {
    let r: ArticleRow = sqlx::query_as(&format!("{ARTICLE_SELECT} WHERE a.id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    r.into_record()
}

/// Rewrites an article's search terms.
async fn reindex(conn: &mut AnyConnection, id: i64, a: &ArticleInput) -> Result<()> {
    sqlx::query("DELETE FROM kb_terms WHERE article_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let titles = [a.title_zh.as_deref(), a.title_en.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n");
    let mut weights = index_terms(&a.searchable());
    for (term, n) in index_terms(&titles) {
        *weights.entry(term).or_insert(0) += n * (TITLE_WEIGHT - 1);
    }
    let rows: Vec<(String, i64)> = weights.into_iter().collect();
    // A thousand rows per statement (3,000 bound values, well under SQLite's limit): a long
    // article is a few statements, so the writer is not held for long.
    for chunk in rows.chunks(1000) {
        let mut q = SqlBuilder::new("INSERT INTO kb_terms (term, article_id, weight) VALUES ");
        for (i, (term, w)) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push("(")
                .text(term.clone())
                .push(", ")
                .int(id)
                .push(", ")
                .int(*w)
                .push(")");
        }
        q.query().execute(&mut *conn).await?;
    }
    Ok(())
}

async fn check_category(conn: &mut AnyConnection, category: Option<i64>) -> Result<()> {
    if let Some(c) = category {
        let ok: Option<i64> = sqlx::query_scalar("SELECT id FROM ticket_categories WHERE id = $1")
            .bind(c)
            .fetch_optional(&mut *conn)
            .await?;
        if ok.is_none() {
            return Err(StoreError::Invalid(ValidationErrors::single(
                "category_id",
                "invalid_reference",
            )));
        }
    }
    Ok(())
}

impl Store {
    /// Writes a new article and its index.
    pub async fn create_article(&self, actor: &Actor, a: &ArticleInput) -> Result<Article> {
        let now = to_ms(Utc::now());
        let status = a.status.unwrap_or(ArticleStatus::Draft);
        let mut tx = self.begin_write().await?;
        check_category(&mut tx, a.category_id).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO kb_articles (title_zh, body_zh, title_en, body_en, category_id, tags, \
             status, published_at, created_at, updated_at, created_by, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $10) RETURNING id",
        )
        .bind(a.title_zh.as_deref())
        .bind(a.body_zh.as_deref())
        .bind(a.title_en.as_deref())
        .bind(a.body_en.as_deref())
        .bind(a.category_id)
        .bind(a.tags.join(","))
        .bind(status.as_str())
        .bind((status == ArticleStatus::Published).then_some(now))
        .bind(now)
        .bind(actor.user_id())
        .fetch_one(&mut *tx)
        .await?;
        reindex(&mut tx, id, a).await?;
        record(
            &mut tx,
            actor,
            AuditEvent {
                action: "create",
                entity: "kb_article",
                entity_id: Some(id),
                detail: json!({"title_zh": a.title_zh, "title_en": a.title_en, "status": status.as_str()}),
            },
        )
        .await?;
        let out = load(&mut tx, id).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Replaces an article (optimistic locking on `a.version`) and its index.
    pub async fn update_article(
        &self,
        actor: &Actor,
        id: i64,
        a: &ArticleInput,
    ) -> Result<Article> {
        let now = to_ms(Utc::now());
        let mut tx = self.begin_write().await?;
        let current = load(&mut tx, id).await?;
        let status = a.status.unwrap_or(current.status);
        if a.version != Some(current.meta.version) {
            return Err(StoreError::Conflict {
                current: current.meta.version,
                updated_by: current.meta.updated_by,
            });
        }
        check_category(&mut tx, a.category_id).await?;
        sqlx::query(
            "UPDATE kb_articles SET title_zh = $1, body_zh = $2, title_en = $3, body_en = $4, \
             category_id = $5, tags = $6, status = $7, \
             published_at = CASE WHEN $7 = 'published' THEN COALESCE(published_at, $8) \
                                 ELSE published_at END, \
             version = version + 1, updated_at = $8, updated_by = $9 WHERE id = $10",
        )
        .bind(a.title_zh.as_deref())
        .bind(a.body_zh.as_deref())
        .bind(a.title_en.as_deref())
        .bind(a.body_en.as_deref())
        .bind(a.category_id)
        .bind(a.tags.join(","))
        .bind(status.as_str())
        .bind(now)
        .bind(actor.user_id())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        reindex(&mut tx, id, a).await?;
        record(
            &mut tx,
            actor,
            AuditEvent {
                action: "update",
                entity: "kb_article",
                entity_id: Some(id),
                detail: json!({"status": status.as_str()}),
            },
        )
        .await?;
        let out = load(&mut tx, id).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// An article; `count_view` adds one to its views (a reader opening it, not an editor's
    /// reload after a save). Readers who may not edit see published articles only.
    pub async fn article(&self, id: i64, count_view: bool, editor: bool) -> Result<Article> {
        if count_view {
            sqlx::query(
                "UPDATE kb_articles SET views = views + 1 WHERE id = $1 AND status = 'published'",
            )
            .bind(id)
            .execute(&self.write)
            .await?;
        }
        let mut conn = self.read.acquire().await?;
        let a = load(&mut conn, id).await?;
        if !editor && a.status != ArticleStatus::Published {
            return Err(StoreError::NotFound);
        }
        Ok(a)
    }

    /// Articles whose text holds every word of the query, best first, with a highlighted
    /// snippet in the reader's language (`zh`). Editors also find drafts; nobody finds
    /// archived ones. An empty query lists the newest articles.
    pub async fn search_articles(
        &self,
        query: &str,
        zh: bool,
        editor: bool,
        limit: i64,
    ) -> Result<Vec<ArticleHit>> {
        let mut terms = query_terms(query);
        terms.truncate(MAX_QUERY_TERMS);
        let statuses = if editor {
            "('published', 'draft')"
        } else {
            "('published')"
        };
        let limit = limit.clamp(1, 100);
        let scored: Vec<(i64, i64)> = if terms.is_empty() {
            let mut q = SqlBuilder::new("SELECT id, 0 FROM kb_articles WHERE status IN ");
            q.push(statuses)
                .push(" ORDER BY updated_at DESC, id DESC LIMIT ")
                .int(limit);
            q.query_as().fetch_all(&self.read).await?
        } else {
            let terms_list: Vec<String> = terms.clone();
            let mut q = SqlBuilder::new(
                "SELECT k.article_id, CAST(SUM(k.weight) AS BIGINT) FROM kb_terms k JOIN kb_articles a \
                 ON a.id = k.article_id WHERE a.status IN ",
            );
            q.push(statuses).push(" AND k.term IN (");
            for (i, t) in terms_list.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                q.text(t.clone());
            }
            q.push(") GROUP BY k.article_id HAVING COUNT(*) = ")
                .int(terms_list.len() as i64)
                .push(" ORDER BY 2 DESC, 1 DESC LIMIT ")
                .int(limit);
            q.query_as().fetch_all(&self.read).await?
        };
        let mut conn = self.read.acquire().await?;
        let mut hits = Vec::with_capacity(scored.len());
        for (id, score) in scored {
            let a = load(&mut conn, id).await?;
            let (title, body) = if zh {
                (
                    a.title_zh.clone().or(a.title_en.clone()),
                    a.body_zh.clone().or(a.body_en.clone()),
                )
            } else {
                (
                    a.title_en.clone().or(a.title_zh.clone()),
                    a.body_en.clone().or(a.body_zh.clone()),
                )
            };
            // The snippet comes from whichever text holds a match: the reader's language first.
            let texts = [body.clone(), a.body_zh.clone(), a.body_en.clone()];
            let body_text = texts
                .iter()
                .flatten()
                .find(|t| {
                    let pieces = snippet(t, &terms, SNIPPET_CHARS);
                    pieces.iter().any(|p| p.1)
                })
                .cloned()
                .or(body)
                .unwrap_or_default();
            hits.push(ArticleHit {
                id,
                title: title.unwrap_or_default(),
                snippet: snippet(&body_text, &terms, SNIPPET_CHARS)
                    .into_iter()
                    .map(|(text, hit)| SnippetPiece { text, hit })
                    .collect(),
                score,
                status: a.status,
            });
        }
        Ok(hits)
    }

    /// One vote per user; voting again changes the vote.
    pub async fn vote_article(&self, actor: &Actor, id: i64, helpful: bool) -> Result<Article> {
        let mut tx = self.begin_write().await?;
        let a = load(&mut tx, id).await?;
        if a.status != ArticleStatus::Published {
            return Err(StoreError::NotFound);
        }
        sqlx::query(
            "INSERT INTO kb_votes (article_id, user_id, helpful, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (article_id, user_id) DO UPDATE SET helpful = excluded.helpful, \
             created_at = excluded.created_at",
        )
        .bind(id)
        .bind(actor.id)
        .bind(helpful)
        .bind(to_ms(Utc::now()))
        .execute(&mut *tx)
        .await?;
        let out = load(&mut tx, id).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Records that an article answered a ticket (once per pair), on the ticket's history.
    pub async fn link_article(&self, actor: &Actor, ticket: i64, id: i64) -> Result<()> {
        let t = self.ticket(actor, ticket).await?;
        let mut tx = self.begin_write().await?;
        let a = load(&mut tx, id).await?;
        if a.status != ArticleStatus::Published {
            return Err(StoreError::Invalid(ValidationErrors::single(
                "article_id",
                "invalid_reference",
            )));
        }
        let now = Utc::now();
        let n = sqlx::query(
            "INSERT INTO kb_ticket_links (ticket_id, article_id, linked_by, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (ticket_id, article_id) DO NOTHING",
        )
        .bind(ticket)
        .bind(id)
        .bind(actor.user_id())
        .bind(to_ms(now))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n > 0 {
            let title = a.title_zh.or(a.title_en).unwrap_or_default();
            let detail = format!("#{id} {title}");
            crate::ticket::log_event(
                &mut tx,
                ticket,
                t.customer_id,
                now,
                "article",
                Some(&detail),
                actor.user_id(),
            )
            .await?;
            record(
                &mut tx,
                actor,
                AuditEvent {
                    action: "link",
                    entity: "kb_article",
                    entity_id: Some(id),
                    detail: json!({"ticket_id": ticket}),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The articles linked to a ticket.
    pub async fn ticket_articles(&self, ticket: i64) -> Result<Vec<(i64, String)>> {
        let rows: Vec<(i64, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT a.id, a.title_zh, a.title_en FROM kb_ticket_links l JOIN kb_articles a \
             ON a.id = l.article_id WHERE l.ticket_id = $1 ORDER BY l.created_at",
        )
        .bind(ticket)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, zh, en)| (id, zh.or(en).unwrap_or_default()))
            .collect())
    }
}
