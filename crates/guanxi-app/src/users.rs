//! Creating users: validation, password hashing, the store insert and its audit entry.

use guanxi_domain::records::User;
use guanxi_domain::role::{Actor, Permission};
use guanxi_domain::user::NewUser;
use guanxi_store::users::UserInsert;
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
