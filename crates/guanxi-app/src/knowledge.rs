//! The knowledge base's use cases: agents and readers of tickets search and read published
//! articles, vote and link them to tickets; agents write drafts; the desk manager publishes
//! and archives.

use guanxi_domain::knowledge::{Article, ArticleHit, ArticleInput, ArticleStatus};
use guanxi_domain::role::{Actor, Permission};
use guanxi_store::Store;

use crate::{require, AppError};

/// Whether the actor edits articles (sees drafts).
pub fn is_editor(actor: &Actor) -> bool {
    actor.can(Permission::WorkTickets)
}

/// Publishing or archiving is the desk manager's; agents write drafts.
fn check_status(actor: &Actor, status: Option<ArticleStatus>) -> Result<(), AppError> {
    if status.is_some_and(|s| s != ArticleStatus::Draft) {
        require(actor, Permission::ManageServiceDesk)?;
    }
    Ok(())
}

/// Search (an empty query lists the newest).
pub async fn search(
    store: &Store,
    actor: &Actor,
    query: &str,
    zh: bool,
    limit: i64,
) -> Result<Vec<ArticleHit>, AppError> {
    require(actor, Permission::ReadTickets)?;
    Ok(store
        .search_articles(query, zh, is_editor(actor), limit)
        .await?)
}

/// Reads an article; a reader's open counts as a view.
pub async fn read(store: &Store, actor: &Actor, id: i64) -> Result<Article, AppError> {
    require(actor, Permission::ReadTickets)?;
    Ok(store.article(id, true, is_editor(actor)).await?)
}

/// An article as stored, for its edit form (drafts and archived included; no view counted).
pub async fn load_for_edit(store: &Store, actor: &Actor, id: i64) -> Result<Article, AppError> {
    require(actor, Permission::WorkTickets)?;
    Ok(store.article(id, false, true).await?)
}

/// Writes a new article.
pub async fn create(store: &Store, actor: &Actor, a: ArticleInput) -> Result<Article, AppError> {
    require(actor, Permission::WorkTickets)?;
    check_status(actor, a.status)?;
    let a = a.validate()?;
    Ok(store.create_article(actor, &a).await?)
}

/// Replaces an article (send the version read).
pub async fn update(
    store: &Store,
    actor: &Actor,
    id: i64,
    a: ArticleInput,
) -> Result<Article, AppError> {
    require(actor, Permission::WorkTickets)?;
    check_status(actor, a.status)?;
    let a = a.validate()?;
    Ok(store.update_article(actor, id, &a).await?)
}

/// Helpful or not.
pub async fn vote(
    store: &Store,
    actor: &Actor,
    id: i64,
    helpful: bool,
) -> Result<Article, AppError> {
    require(actor, Permission::ReadTickets)?;
    Ok(store.vote_article(actor, id, helpful).await?)
}

/// "This answered it": links an article to a ticket.
pub async fn link(store: &Store, actor: &Actor, ticket: i64, id: i64) -> Result<(), AppError> {
    require(actor, Permission::WorkTickets)?;
    Ok(store.link_article(actor, ticket, id).await?)
}

/// The articles linked to a ticket the actor may see.
pub async fn linked(
    store: &Store,
    actor: &Actor,
    ticket: i64,
) -> Result<Vec<(i64, String)>, AppError> {
    require(actor, Permission::ReadTickets)?;
    store.ticket(actor, ticket).await?;
    Ok(store.ticket_articles(ticket).await?)
}
