//! Users of Guanxi (staff, not customers): input validation for accounts.

use serde::{Deserialize, Serialize};

use crate::error::ValidationErrors;
use crate::role::Role;

/// UI languages we ship.
pub const LOCALES: &[&str] = &["zh-CN", "en"];

/// Minimum password length. Length beats composition rules (NIST SP 800-63B).
pub const MIN_PASSWORD: usize = 10;

/// A new user as an admin (or `guanxi user add`) sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Login name: 3–50 of a–z, 0–9, `.`, `_`, `-`.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Password, at least 10 characters.
    pub password: String,
    /// Role.
    pub role: Role,
    /// Team.
    #[serde(default)]
    pub team_id: Option<i64>,
    /// Grant: see every customer even as sales.
    #[serde(default)]
    pub see_all_customers: bool,
    /// UI language; default zh-CN.
    #[serde(default)]
    pub locale: Option<String>,
}

/// Checks a login name.
pub fn check_username(u: &str) -> Result<(), &'static str> {
    if (3..=50).contains(&u.len())
        && u.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
    {
        Ok(())
    } else {
        Err("invalid_username")
    }
}

/// Checks a password's strength (length only; see [`MIN_PASSWORD`]).
pub fn check_password(p: &str) -> Result<(), &'static str> {
    if p.chars().count() < MIN_PASSWORD {
        Err("password_too_short")
    } else if p.len() > 1024 {
        Err("too_long")
    } else {
        Ok(())
    }
}

/// Checks a locale code.
pub fn check_locale(l: &str) -> Result<(), &'static str> {
    if LOCALES.contains(&l) {
        Ok(())
    } else {
        Err("unknown_value")
    }
}

impl NewUser {
    /// Validates all fields.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::new();
        e.field("username", check_username(&self.username));
        e.field("password", check_password(&self.password));
        let dn = self.display_name.trim();
        if dn.is_empty() {
            e.push("display_name", "required");
        } else if dn.chars().count() > 100 {
            e.push("display_name", "too_long");
        }
        if let Some(l) = &self.locale {
            e.field("locale", check_locale(l));
        }
        e.finish(|| ())
    }
}

/// Changes to a user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// Version last read.
    pub version: i64,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// New password.
    #[serde(default)]
    pub password: Option<String>,
    /// Role.
    #[serde(default)]
    pub role: Option<Role>,
    /// Team (null removes from team).
    #[serde(default, deserialize_with = "crate::customer::double_option")]
    #[schema(value_type = Option<i64>)]
    pub team_id: Option<Option<i64>>,
    /// Grant to see all customers.
    #[serde(default)]
    pub see_all_customers: Option<bool>,
    /// UI language.
    #[serde(default)]
    pub locale: Option<String>,
    /// Active (false locks the account and ends its sessions).
    #[serde(default)]
    pub active: Option<bool>,
}

impl UserPatch {
    /// Validates the fields present.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::new();
        if let Some(p) = &self.password {
            e.field("password", check_password(p));
        }
        if let Some(l) = &self.locale {
            e.field("locale", check_locale(l));
        }
        if let Some(d) = &self.display_name {
            if d.trim().is_empty() {
                e.push("display_name", "required");
            } else if d.chars().count() > 100 {
                e.push("display_name", "too_long");
            }
        }
        e.finish(|| ())
    }
}
