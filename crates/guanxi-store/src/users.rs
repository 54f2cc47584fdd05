//! Users, teams, login sessions and API tokens. Secrets never reach the database in clear:
//! passwords arrive argon2-hashed from the web layer, session ids and API tokens are stored as
//! SHA-256 digests (high-entropy random values need no slow hash).

use chrono::{DateTime, Utc};
use guanxi_domain::records::{Team, User};
use guanxi_domain::role::{Actor, Role};
use serde_json::json;

use crate::audit::{record, AuditEvent};
use crate::db::{from_ms, to_ms, Backend, Store, LOCK_WAIT_MS};
use crate::error::{Result, StoreError};
use crate::rows::{code, meta, Flag};

const USER_COLUMNS: &str = "id, username, display_name, role, team_id, see_all_customers, locale, \
    active, version, created_at, updated_at, created_by, updated_by";

/// [`USER_COLUMNS`] of the users table aliased `u`, for the one-query lookups that join it.
fn user_columns_of_u() -> String {
    USER_COLUMNS
        .split(", ")
        .map(|c| format!("u.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A live session's CSRF token, expiry and active user: every cookie request asks, so the
/// statement is written once.
static SESSION_USER_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT s.csrf_token, s.expires_at AS session_expires_at, {} \
         FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.id = $1 AND s.expires_at > $2 AND u.active = TRUE",
        user_columns_of_u()
    )
});

/// A live token's id, last use and active user: every bearer request asks, so the statement
/// is written once.
static TOKEN_USER_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT t.id AS token_id, t.last_used_at AS token_last_used, {} \
         FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1 \
         AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2) \
         AND u.active = TRUE",
        user_columns_of_u()
    )
});

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    username: String,
    display_name: String,
    role: String,
    team_id: Option<i64>,
    see_all_customers: Flag,
    locale: String,
    active: Flag,
    version: i64,
    created_at: i64,
    updated_at: i64,
    created_by: Option<i64>,
    updated_by: Option<i64>,
}

impl UserRow {
    fn into_user(self) -> Result<User> {
        Ok(User {
            id: self.id,
            username: self.username,
            display_name: self.display_name,
            role: code(Role::parse, &self.role, "role")?,
            team_id: self.team_id,
            see_all_customers: self.see_all_customers.0,
            locale: self.locale,
            active: self.active.0,
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

/// A user to insert; the password is already hashed.
pub struct UserInsert<'a> {
    /// Login.
    pub username: &'a str,
    /// Display name.
    pub display_name: &'a str,
    /// Argon2 PHC string.
    pub password_hash: &'a str,
    /// Role.
    pub role: Role,
    /// Team.
    pub team_id: Option<i64>,
    /// Grant.
    pub see_all_customers: bool,
    /// Locale.
    pub locale: &'a str,
}

/// Changes to apply to a user (already validated; password already hashed).
#[derive(Default)]
pub struct UserUpdate {
    /// Version the client read.
    pub version: i64,
    /// Display name.
    pub display_name: Option<String>,
    /// New password hash.
    pub password_hash: Option<String>,
    /// Role.
    pub role: Option<Role>,
    /// Team.
    pub team_id: Option<Option<i64>>,
    /// Grant.
    pub see_all_customers: Option<bool>,
    /// Locale.
    pub locale: Option<String>,
    /// Active.
    pub active: Option<bool>,
}

/// An API token as listed (never the secret).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ApiToken {
    /// Id.
    pub id: i64,
    /// Name given at creation.
    pub name: String,
    /// First characters, to recognise the token.
    pub prefix: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last used.
    pub last_used_at: Option<DateTime<Utc>>,
    /// Expiry.
    pub expires_at: Option<DateTime<Utc>>,
    /// Revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// How long a request waits for the writer to note its token's use before leaving it to a
/// later request.
const TOKEN_USE_WRITER_WAIT: std::time::Duration = std::time::Duration::from_millis(20);

/// How fresh a token's `last_used_at` is kept (one minute).
pub const TOKEN_USE_RESOLUTION_MS: i64 = 60_000;

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: i64,
    name: String,
    prefix: String,
    created_at: i64,
    last_used_at: Option<i64>,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
}

/// A live login session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The logged-in user.
    pub user: User,
    /// The CSRF token bound to this session.
    pub csrf_token: String,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
}

/// Fails with `field: invalid_reference` unless `id` (when given) is an active user.
pub(crate) async fn check_active_user(
    conn: &mut sqlx::AnyConnection,
    field: &'static str,
    id: Option<i64>,
) -> Result<()> {
    let Some(id) = id else {
        return Ok(());
    };
    let ok: Option<i64> =
        sqlx::query_scalar("SELECT id FROM users WHERE id = $1 AND active = TRUE")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    match ok {
        Some(_) => Ok(()),
        None => Err(StoreError::Invalid(
            guanxi_domain::ValidationErrors::single(field, "invalid_reference"),
        )),
    }
}

impl Store {
    /// Number of users (zero means first run: print how to create the admin).
    pub async fn count_users(&self) -> Result<i64> {
        Ok(sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users")
            .fetch_one(&self.read)
            .await?)
    }

    /// Creates a team.
    pub async fn create_team(&self, actor: &Actor, name: &str) -> Result<Team> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(StoreError::Invalid(
                guanxi_domain::ValidationErrors::single(
                    "name",
                    if name.is_empty() {
                        "required"
                    } else {
                        "too_long"
                    },
                ),
            ));
        }
        let now = to_ms(Utc::now());
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO teams (name, created_at, updated_at) VALUES ($1, $2, $2) RETURNING id",
        )
        .bind(name)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::unique(e, "name"))?;
        record(
            &mut tx,
            actor,
            AuditEvent {
                action: "create",
                entity: "team",
                entity_id: Some(id),
                detail: json!({"name": name}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Team {
            id,
            name: name.to_string(),
            version: 1,
        })
    }

    /// Names the lead of a team (or nobody): the first step of a complaint's escalation.
    pub async fn set_team_lead(&self, actor: &Actor, team: i64, lead: Option<i64>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        if let Some(u) = lead {
            let ok: Option<i64> =
                sqlx::query_scalar("SELECT id FROM users WHERE id = $1 AND active = TRUE")
                    .bind(u)
                    .fetch_optional(&mut *tx)
                    .await?;
            if ok.is_none() {
                return Err(StoreError::Invalid(
                    guanxi_domain::ValidationErrors::single("lead_id", "invalid_reference"),
                ));
            }
        }
        let n = sqlx::query(
            "UPDATE teams SET lead_id = $1, version = version + 1, updated_at = $2 WHERE id = $3",
        )
        .bind(lead)
        .bind(to_ms(Utc::now()))
        .bind(team)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        record(
            &mut tx,
            actor,
            AuditEvent {
                action: "update",
                entity: "team",
                entity_id: Some(team),
                detail: json!({"lead_id": lead}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// All teams by name.
    pub async fn list_teams(&self) -> Result<Vec<Team>> {
        let rows: Vec<(i64, String, i64)> =
            sqlx::query_as("SELECT id, name, version FROM teams ORDER BY name")
                .fetch_all(&self.read)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, version)| Team { id, name, version })
            .collect())
    }

    /// Creates a user.
    pub async fn create_user(&self, actor: &Actor, u: UserInsert<'_>) -> Result<User> {
        let now = to_ms(Utc::now());
        let mut tx = self.begin_write().await?;
        if let Some(t) = u.team_id {
            let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM teams WHERE id = $1")
                .bind(t)
                .fetch_optional(&mut *tx)
                .await?;
            if exists.is_none() {
                return Err(StoreError::Invalid(
                    guanxi_domain::ValidationErrors::single("team_id", "invalid_reference"),
                ));
            }
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (username, display_name, password_hash, role, team_id, see_all_customers, \
             locale, active, created_at, updated_at, created_by, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, TRUE, $8, $8, $9, $9) RETURNING id",
        )
        .bind(u.username)
        .bind(u.display_name.trim())
        .bind(u.password_hash)
        .bind(u.role.as_str())
        .bind(u.team_id)
        .bind(u.see_all_customers)
        .bind(u.locale)
        .bind(now)
        .bind(actor.user_id())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::unique(e, "username"))?;
        record(&mut tx, actor, AuditEvent {
            action: "create", entity: "user", entity_id: Some(id),
            detail: json!({"username": u.username, "role": u.role.as_str(), "team_id": u.team_id}),
        }).await?;
        tx.commit().await?;
        self.get_user(id).await
    }

    /// One user.
    pub async fn get_user(&self, id: i64) -> Result<User> {
        let row: Option<UserRow> =
            sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.read)
                .await?;
        row.ok_or(StoreError::NotFound)?.into_user()
    }

    /// All users by username.
    pub async fn list_users(&self) -> Result<Vec<User>> {
        let rows: Vec<UserRow> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY username"
        ))
        .fetch_all(&self.read)
        .await?;
        rows.into_iter().map(UserRow::into_user).collect()
    }

    /// The user and password hash for a login attempt (active users only).
    pub async fn user_for_login(&self, username: &str) -> Result<Option<(User, String)>> {
        let row: Option<UserRow> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE username = $1 AND active = TRUE"
        ))
        .bind(username)
        .fetch_optional(&self.read)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
            .bind(row.id)
            .fetch_one(&self.read)
            .await?;
        Ok(Some((row.into_user()?, hash)))
    }

    /// Updates a user with optimistic locking; deactivation ends sessions and revokes tokens.
    pub async fn update_user(&self, actor: &Actor, id: i64, u: UserUpdate) -> Result<User> {
        let before = self.get_user(id).await?;
        if before.meta.version != u.version {
            return Err(StoreError::Conflict {
                current: before.meta.version,
                updated_by: before.meta.updated_by,
            });
        }
        // Nobody locks themselves out: the last door back in would be the database.
        if actor.id == id {
            if u.active == Some(false) {
                return Err(
                    guanxi_domain::ValidationErrors::single("active", "self_lockout").into(),
                );
            }
            if before.role == guanxi_domain::role::Role::Admin
                && u.role
                    .is_some_and(|r| r != guanxi_domain::role::Role::Admin)
            {
                return Err(guanxi_domain::ValidationErrors::single("role", "self_lockout").into());
            }
        }
        let now = to_ms(Utc::now());
        let mut tx = self.begin_write().await?;
        let team_id = u.team_id.unwrap_or(before.team_id);
        if let Some(t) = team_id {
            let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM teams WHERE id = $1")
                .bind(t)
                .fetch_optional(&mut *tx)
                .await?;
            if exists.is_none() {
                return Err(StoreError::Invalid(
                    guanxi_domain::ValidationErrors::single("team_id", "invalid_reference"),
                ));
            }
        }
        let active = u.active.unwrap_or(before.active);
        let n = sqlx::query(
            "UPDATE users SET display_name = $1, role = $2, team_id = $3, see_all_customers = $4, \
             locale = $5, active = $6, password_hash = COALESCE($7, password_hash), \
             version = version + 1, updated_at = $8, updated_by = $9 WHERE id = $10 AND version = $11",
        )
        .bind(u.display_name.clone().unwrap_or(before.display_name.clone()))
        .bind(u.role.unwrap_or(before.role).as_str())
        .bind(team_id)
        .bind(u.see_all_customers.unwrap_or(before.see_all_customers))
        .bind(u.locale.clone().unwrap_or(before.locale.clone()))
        .bind(active)
        .bind(u.password_hash.clone())
        .bind(now)
        .bind(actor.user_id())
        .bind(id)
        .bind(u.version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict {
                current: before.meta.version + 1,
                updated_by: None,
            });
        }
        if !active || u.password_hash.is_some() {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        if !active {
            sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        let after_role = u.role.unwrap_or(before.role);
        record(&mut tx, actor, AuditEvent {
            action: "update", entity: "user", entity_id: Some(id),
            detail: crate::audit::diff(
                &json!({"display_name": before.display_name, "role": before.role.as_str(), "team_id": before.team_id, "see_all_customers": before.see_all_customers, "locale": before.locale, "active": before.active}),
                &json!({"display_name": u.display_name.unwrap_or(before.display_name.clone()), "role": after_role.as_str(), "team_id": team_id, "see_all_customers": u.see_all_customers.unwrap_or(before.see_all_customers), "locale": u.locale.unwrap_or(before.locale.clone()), "active": active, "password_changed": u.password_hash.is_some()}),
            ),
        }).await?;
        tx.commit().await?;
        self.get_user(id).await
    }

    /// Stores a new session (id already hashed). Expired sessions are swept first: each login
    /// clears what earlier logins left, so the table holds live sessions, not years of history.
    pub async fn create_session(
        &self,
        id_hash: &str,
        user_id: i64,
        csrf: &str,
        expires: DateTime<Utc>,
    ) -> Result<()> {
        self.purge_expired_sessions().await?;
        sqlx::query("INSERT INTO sessions (id, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id_hash)
            .bind(user_id)
            .bind(csrf)
            .bind(to_ms(Utc::now()))
            .bind(to_ms(expires))
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// A live session and its (active) user.
    pub async fn get_session(&self, id_hash: &str) -> Result<Option<Session>> {
        #[derive(sqlx::FromRow)]
        struct SessionUser {
            csrf_token: String,
            session_expires_at: i64,
            #[sqlx(flatten)]
            user: UserRow,
        }
        let row: Option<SessionUser> = sqlx::query_as(SESSION_USER_SQL.as_str())
            .bind(id_hash)
            .bind(to_ms(Utc::now()))
            .fetch_optional(&self.read)
            .await?;
        row.map(|r| {
            Ok(Session {
                user: r.user.into_user()?,
                csrf_token: r.csrf_token,
                expires_at: from_ms(r.session_expires_at),
            })
        })
        .transpose()
    }

    /// Deletes sessions past their expiry; returns how many.
    pub async fn purge_expired_sessions(&self) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(to_ms(Utc::now()))
            .execute(&self.write)
            .await?
            .rows_affected())
    }

    /// Ends a session.
    pub async fn delete_session(&self, id_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id_hash)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Stores a new API token (hash only) and returns its id.
    pub async fn create_token(
        &self,
        actor: &Actor,
        user_id: i64,
        name: &str,
        hash: &str,
        prefix: &str,
        expires: Option<DateTime<Utc>>,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(user_id)
        .bind(name)
        .bind(hash)
        .bind(prefix)
        .bind(to_ms(Utc::now()))
        .bind(expires.map(to_ms))
        .fetch_one(&mut *tx)
        .await?;
        record(
            &mut tx,
            actor,
            AuditEvent {
                action: "create",
                entity: "api_token",
                entity_id: Some(id),
                detail: json!({"user_id": user_id, "name": name, "prefix": prefix}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A user's tokens.
    pub async fn list_tokens(&self, user_id: i64) -> Result<Vec<ApiToken>> {
        let rows: Vec<TokenRow> = sqlx::query_as(
            "SELECT id, name, prefix, created_at, last_used_at, expires_at, revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY id",
        )
        .bind(user_id)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| ApiToken {
                id: r.id,
                name: r.name,
                prefix: r.prefix,
                created_at: from_ms(r.created_at),
                last_used_at: r.last_used_at.map(from_ms),
                expires_at: r.expires_at.map(from_ms),
                revoked_at: r.revoked_at.map(from_ms),
            })
            .collect())
    }

    /// Revokes one of a user's tokens.
    pub async fn revoke_token(&self, actor: &Actor, user_id: i64, token_id: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
            .bind(to_ms(Utc::now()))
            .bind(token_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        record(
            &mut tx,
            actor,
            AuditEvent {
                action: "revoke",
                entity: "api_token",
                entity_id: Some(token_id),
                detail: json!({"user_id": user_id}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The active user behind a live token hash, in one query; records its use.
    pub async fn user_for_token(&self, hash: &str) -> Result<Option<User>> {
        #[derive(sqlx::FromRow)]
        struct TokenUser {
            token_id: i64,
            token_last_used: Option<i64>,
            #[sqlx(flatten)]
            user: UserRow,
        }
        let now = to_ms(Utc::now());
        let row: Option<TokenUser> = sqlx::query_as(TOKEN_USER_SQL.as_str())
            .bind(hash)
            .bind(now)
            .fetch_optional(&self.read)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        // "Last used" is kept to the minute: a script calling every second must not queue a
        // write behind every read (on SQLite all writes share one connection).
        if row
            .token_last_used
            .is_none_or(|t| now - t >= TOKEN_USE_RESOLUTION_MS)
        {
            self.record_token_use(row.token_id, now).await;
        }
        Ok(Some(row.user.into_user()?))
    }

    /// Notes a token's use if that costs the request nothing: only when the writer is free
    /// this instant, and without waiting for a lock somebody else holds (a long import in
    /// another process, say). A read never waits for, or fails because of, this bookkeeping;
    /// a use not recorded now is recorded by the token's next request.
    async fn record_token_use(&self, token_id: i64, now: i64) {
        // A connection handed back a moment ago is only idle again after a hop through the
        // runtime, so wait for one briefly rather than not at all.
        let Ok(Ok(mut conn)) =
            tokio::time::timeout(TOKEN_USE_WRITER_WAIT, self.write.acquire()).await
        else {
            return;
        };
        let update = "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2";
        let outcome: Result<()> = async {
            match self.backend() {
                Backend::Sqlite => {
                    sqlx::query("PRAGMA busy_timeout = 0")
                        .execute(&mut *conn)
                        .await?;
                    let written = sqlx::query(update)
                        .bind(now)
                        .bind(token_id)
                        .execute(&mut *conn)
                        .await;
                    sqlx::query(&format!("PRAGMA busy_timeout = {LOCK_WAIT_MS}"))
                        .execute(&mut *conn)
                        .await?;
                    written?;
                }
                Backend::Postgres => {
                    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                    sqlx::query("SET LOCAL lock_timeout = '5ms'")
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(update)
                        .bind(now)
                        .bind(token_id)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                }
            }
            Ok(())
        }
        .await;
        if let Err(e) = outcome {
            tracing::debug!(error = %e, token_id, "token use not recorded this time");
        }
    }
}
