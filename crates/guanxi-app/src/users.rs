//! Users and teams: creating a user (validation, password hashing, insert, audit), changing
//! one (people change their own name, language and password; the rest is for admins), the
//! directory of names every page shows, and teams.

use guanxi_domain::records::{Team, User};
use guanxi_domain::role::{Actor, Permission};
use guanxi_domain::user::{NewUser, UserPatch};
use guanxi_store::users::{UserInsert, UserUpdate};
use guanxi_store::Store;

use crate::passwords::hash_password;
use crate::{require, AppError};

/// Creates a user on behalf of `actor` (admins; the CLI and the demo act as the system).
pub async fn create_user(store: &Store, actor: &Actor, u: NewUser) -> Result<User, AppError> {
    require(actor, Permission::ManageUsers)?;
    u.validate()?;
    let hash = hash_password(u.password.clone()).await?;
    Ok(store
        .create_user(
            actor,
            UserInsert {
                username: &u.username,
                display_name: &u.display_name,
                password_hash: &hash,
                role: u.role,
                team_id: u.team_id,
                see_all_customers: u.see_all_customers,
                locale: u.locale.as_deref().unwrap_or("zh-CN"),
            },
        )
        .await?)
}

/// Changes a user guarded by the version last read. A user may change their own display name,
/// language and password; role, team, the see-all grant and locking need `ManageUsers`. An
/// admin cannot lock themselves out (the store refuses demoting or deactivating oneself).
pub async fn update_user(
    store: &Store,
    actor: &Actor,
    id: i64,
    p: UserPatch,
) -> Result<User, AppError> {
    let self_service = id == actor.id
        && p.role.is_none()
        && p.team_id.is_none()
        && p.see_all_customers.is_none()
        && p.active.is_none();
    if !self_service {
        require(actor, Permission::ManageUsers)?;
    }
    p.validate()?;
    let password_hash = match p.password.clone() {
        Some(pw) => Some(hash_password(pw).await?),
        None => None,
    };
    Ok(store
        .update_user(
            actor,
            id,
            UserUpdate {
                version: p.version,
                display_name: p.display_name.map(|d| d.trim().to_string()),
                password_hash,
                role: p.role,
                team_id: p.team_id,
                see_all_customers: p.see_all_customers,
                locale: p.locale,
                active: p.active,
            },
        )
        .await?)
}

/// Every user, active or not, for the admin page.
pub async fn list_users(store: &Store, actor: &Actor) -> Result<Vec<User>, AppError> {
    require(actor, Permission::ManageUsers)?;
    Ok(store.list_users().await?)
}

/// The people in the system by name, for anyone signed in: owners, assignees and authors are
/// shown by name on every page (no password hashes; inactive users kept so old entries still
/// name their author).
pub async fn directory(store: &Store, _actor: &Actor) -> Result<Vec<User>, AppError> {
    Ok(store.list_users().await?)
}

/// One user (anyone signed in: a name behind an id).
pub async fn get_user(store: &Store, _actor: &Actor, id: i64) -> Result<User, AppError> {
    Ok(store.get_user(id).await?)
}

/// Every team (anyone signed in: pickers and filters name them).
pub async fn list_teams(store: &Store, _actor: &Actor) -> Result<Vec<Team>, AppError> {
    Ok(store.list_teams().await?)
}

/// Creates a team (admins); the name must be new.
pub async fn create_team(store: &Store, actor: &Actor, name: &str) -> Result<Team, AppError> {
    require(actor, Permission::ManageUsers)?;
    Ok(store.create_team(actor, name).await?)
}
