//! Where text messages go. Production providers (Aliyun SMS, Tencent Cloud SMS: an approved
//! template code, its parameters and a signature) are not wired yet; the file provider writes
//! each message as one JSON line — what a provider would receive — for development and demos.

use std::path::PathBuf;

use tokio::io::AsyncWriteExt;

/// One text message as a provider's API takes it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SmsRequest {
    /// E.164 number.
    pub phone: String,
    /// The approved signature (签名), e.g. 【茶舍】.
    pub sign: String,
    /// The approved template's code.
    pub template: String,
    /// Its parameters, in order.
    pub params: Vec<(String, String)>,
    /// Our idempotency key (the provider's OutId / SessionContext).
    pub out_id: String,
}

/// How a send failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmsError {
    /// Try again later (throttled, provider down).
    #[error("temporary: {0}")]
    Temporary(String),
    /// The number or the template was refused: do not retry.
    #[error("rejected: {0}")]
    Rejected(String),
}

/// The configured provider.
#[derive(Debug, Clone)]
pub enum SmsProvider {
    /// Appends each message as a JSON line to this file.
    File(PathBuf),
}

impl SmsProvider {
    /// Sends one message; the provider's message id on success.
    pub async fn send(&self, r: &SmsRequest) -> Result<String, SmsError> {
        match self {
            SmsProvider::File(path) => {
                let line =
                    serde_json::to_string(r).map_err(|e| SmsError::Rejected(e.to_string()))?;
                let mut f = tokio::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .await
                    .map_err(|e| SmsError::Temporary(e.to_string()))?;
                f.write_all(format!("{line}\n").as_bytes())
                    .await
                    .map_err(|e| SmsError::Temporary(e.to_string()))?;
                Ok(r.out_id.clone())
            }
        }
    }
}
