//! `guanxi user …` and `guanxi team …`.

use std::io::BufRead;

use anyhow::{bail, Context};
use clap::Subcommand;
use guanxi_domain::role::{Actor, Role};
use guanxi_domain::user::NewUser;
use guanxi_store::Store;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user. Without --password-stdin a strong password is generated and printed once.
    Add {
        /// Login name.
        username: String,
        /// admin, manager, sales, service, marketing or viewer.
        #[arg(long)]
        role: String,
        /// Display name (defaults to the username).
        #[arg(long)]
        display_name: Option<String>,
        /// Team name (created if missing).
        #[arg(long)]
        team: Option<String>,
        /// Let a sales user see every customer.
        #[arg(long)]
        see_all: bool,
        /// UI language: zh-CN or en.
        #[arg(long, default_value = "zh-CN")]
        locale: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List,
}

#[derive(Subcommand)]
pub enum TeamCommand {
    /// Create a team.
    Add {
        /// Team name.
        name: String,
    },
    /// List teams.
    List,
}

/// Finds a team by name, creating it when missing.
pub async fn team_id(store: &Store, name: &str) -> anyhow::Result<i64> {
    if let Some(t) = guanxi_app::users::list_teams(store, &Actor::system())
        .await?
        .into_iter()
        .find(|t| t.name == name)
    {
        return Ok(t.id);
    }
    Ok(
        guanxi_app::users::create_team(store, &Actor::system(), name)
            .await?
            .id,
    )
}

/// A random password: 20 characters from an unambiguous alphabet (≈ 110 bits).
pub fn generate_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..20)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

pub async fn run(cmd: UserCommand, store: Store) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Add {
            username,
            role,
            display_name,
            team,
            see_all,
            locale,
            password_stdin,
        } => {
            let role = Role::parse(&role).map_err(|_| {
                anyhow::anyhow!(
                    "unknown role `{role}`; use one of: {}",
                    Role::ALL
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
            let (password, generated) = if password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .context("reading password from stdin")?;
                (line.trim_end_matches(['\r', '\n']).to_string(), false)
            } else {
                (generate_password(), true)
            };
            let team_id = match &team {
                Some(t) => Some(team_id(&store, t).await?),
                None => None,
            };
            let u = NewUser {
                display_name: display_name.unwrap_or_else(|| username.clone()),
                username,
                password: password.clone(),
                role,
                team_id,
                see_all_customers: see_all,
                locale: Some(locale),
            };
            match guanxi_app::users::create_user(&store, &Actor::system(), u).await {
                Ok(u) => {
                    println!("created user {} (id {}, role {})", u.username, u.id, u.role);
                    if generated {
                        println!("password: {password}\n(shown once; change it after signing in)");
                    }
                    Ok(())
                }
                Err(e) => bail!("{}", describe(&e)),
            }
        }
        UserCommand::List => {
            let teams = guanxi_app::users::list_teams(&store, &Actor::system()).await?;
            println!(
                "{:<6} {:<20} {:<10} {:<16} {:<6} display name",
                "id", "username", "role", "team", "active"
            );
            for u in guanxi_app::users::list_users(&store, &Actor::system()).await? {
                let team = u
                    .team_id
                    .and_then(|t| teams.iter().find(|x| x.id == t))
                    .map(|t| t.name.as_str())
                    .unwrap_or("-");
                println!(
                    "{:<6} {:<20} {:<10} {:<16} {:<6} {}",
                    u.id, u.username, u.role, team, u.active, u.display_name
                );
            }
            Ok(())
        }
    }
}

pub async fn run_team(cmd: TeamCommand, store: Store) -> anyhow::Result<()> {
    match cmd {
        TeamCommand::Add { name } => {
            let t = guanxi_app::users::create_team(&store, &Actor::system(), &name).await?;
            println!("created team {} (id {})", t.name, t.id);
        }
        TeamCommand::List => {
            for t in guanxi_app::users::list_teams(&store, &Actor::system()).await? {
                println!("{:<6} {}", t.id, t.name);
            }
        }
    }
    Ok(())
}

/// An application error in words for the terminal: each field problem as `field: message`.
fn describe(e: &guanxi_app::AppError) -> String {
    use guanxi_app::AppError;
    use guanxi_store::StoreError;
    use guanxi_text::i18n::{message, Locale};
    let l = Locale::En;
    match e {
        AppError::Invalid(v) | AppError::Store(StoreError::Invalid(v)) => {
            let fields: Vec<String> =
                v.0.iter()
                    .map(|f| format!("{}: {}", f.field, message(l, &f.code)))
                    .collect();
            format!("{} {}", message(l, "validation_failed"), fields.join("; "))
        }
        AppError::Store(StoreError::Duplicate { field }) => {
            format!("{field}: {}", message(l, "duplicate"))
        }
        AppError::Forbidden => message(l, "forbidden").to_string(),
        other => other.to_string(),
    }
}
