//! Password hashing with argon2id (default parameters: 19 MiB, 2 passes). CPU-heavy, so both
//! directions run on the blocking pool rather than a request thread.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::AppError;

/// Hashes a password for storage.
pub async fn hash_password(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Hashing(e.to_string()))
    })
    .await
    .map_err(|e| AppError::Hashing(e.to_string()))?
}

/// Checks a password against a stored hash (false for a malformed hash).
pub async fn verify_password(hash: String, password: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_only_its_password() {
        let h = hash_password("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(h.clone(), "correct horse battery".into()).await);
        assert!(!verify_password(h, "wrong horse battery".into()).await);
        assert!(!verify_password("not a hash".into(), "x".into()).await);
    }
}
