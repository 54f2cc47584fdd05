//! Use cases on both backends: authorisation by allow-list before anything is stored, masking
//! and the sensitive-read audit in one place for every adapter.

use guanxi_app::AppError;
use guanxi_domain::role::{Actor, Role};
use guanxi_domain::user::NewUser;
use guanxi_store::testing::{user, TestDb};
use guanxi_store::Backend;

fn new_user(username: &str, password: &str) -> NewUser {
    NewUser {
        username: username.into(),
        display_name: username.into(),
        password: password.into(),
        role: Role::Sales,
        team_id: None,
        see_all_customers: false,
        locale: None,
    }
}

async fn creating_users_needs_manage_users(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let manager = user(s, "boss", Role::Manager, None).await;
    let r = guanxi_app::users::create_user(s, &manager, new_user("rep1", "long enough pw")).await;
    assert!(matches!(r, Err(AppError::Forbidden)), "{r:?}");
    let r = guanxi_app::users::create_user(s, &Actor::system(), new_user("rep1", "short")).await;
    assert!(matches!(r, Err(AppError::Invalid(_))), "{r:?}");
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM users WHERE username = 'rep1'")
            .await,
        0,
        "nothing stored for a refused or invalid request"
    );
    let u = guanxi_app::users::create_user(s, &Actor::system(), new_user("rep1", "long enough pw"))
        .await
        .unwrap();
    assert_eq!(u.username, "rep1");
    let hash: String = db
        .scalar_text("SELECT password_hash FROM users WHERE username = 'rep1'")
        .await;
    assert!(hash.starts_with("$argon2id$"), "stored as argon2id");
    assert!(guanxi_app::passwords::verify_password(hash, "long enough pw".into()).await);
}

#[tokio::test]
async fn creating_users_needs_manage_users_sqlite() {
    creating_users_needs_manage_users(Backend::Sqlite).await
}

#[tokio::test]
async fn creating_users_needs_manage_users_postgres() {
    creating_users_needs_manage_users(Backend::Postgres).await
}
