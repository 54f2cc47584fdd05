//! Where text messages go. Chinese providers take an approved template and its parameters,
//! never free text: Aliyun SMS (`SendSms`, RPC style, HMAC-SHA1 signature, parameters as a
//! JSON object by name) and Tencent Cloud SMS (`SendSms` 2021-01-11, TC3-HMAC-SHA256 over a
//! JSON body, parameters as an ordered list). The file provider writes each message as one
//! JSON line, for development and demos. Each answer is classified: a refused number or
//! template is permanent (the address or campaign is at fault), throttling and outages are
//! temporary (retried with backoff).

use std::path::PathBuf;

use base64::Engine;
use chrono::Utc;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

/// One text message as a provider's API takes it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SmsRequest {
    /// E.164 number.
    pub phone: String,
    /// The approved signature (签名), e.g. 茶舍.
    pub sign: String,
    /// The approved template's code.
    pub template: String,
    /// Its parameters, in order.
    pub params: Vec<(String, String)>,
    /// Our idempotency key (Aliyun's OutId, Tencent's SessionContext).
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

/// An API account at a provider.
#[derive(Clone)]
pub struct ApiAccount {
    /// The endpoint (the provider's by default; a local server in tests).
    pub endpoint: String,
    /// AccessKeyId / SecretId.
    pub key_id: String,
    /// AccessKeySecret / SecretKey.
    pub secret: String,
    /// Tencent's SmsSdkAppId (unused by Aliyun).
    pub app_id: String,
}

impl std::fmt::Debug for ApiAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret.
        f.debug_struct("ApiAccount")
            .field("endpoint", &self.endpoint)
            .field("key_id", &self.key_id)
            .field("app_id", &self.app_id)
            .finish()
    }
}

/// The configured provider.
#[derive(Debug, Clone)]
pub enum SmsProvider {
    /// Appends each message as a JSON line to this file.
    File(PathBuf),
    /// Aliyun SMS (dysmsapi).
    Aliyun(ApiAccount, reqwest::Client),
    /// Tencent Cloud SMS.
    Tencent(ApiAccount, reqwest::Client),
}

/// Aliyun's endpoint.
pub const ALIYUN_ENDPOINT: &str = "https://dysmsapi.aliyuncs.com/";
/// Tencent Cloud's endpoint.
pub const TENCENT_ENDPOINT: &str = "https://sms.tencentcloudapi.com/";

impl SmsProvider {
    /// A provider by name (`file`, `aliyun`, `tencent`) with its account; `None` for an
    /// unknown name or a missing part.
    pub fn configure(
        name: &str,
        file: Option<PathBuf>,
        account: Option<ApiAccount>,
    ) -> Result<Option<SmsProvider>, String> {
        let client = || {
            reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(15))
                .build()
                .map_err(|e| format!("sms client: {e}"))
        };
        match name {
            "" | "none" => Ok(file.map(SmsProvider::File)),
            "file" => file
                .map(|f| Some(SmsProvider::File(f)))
                .ok_or_else(|| "sms_file is required for the file provider".to_string()),
            "aliyun" | "tencent" => {
                let mut a = account
                    .ok_or_else(|| format!("{name}: sms_key_id and sms_key_secret are required"))?;
                if a.endpoint.is_empty() {
                    a.endpoint = if name == "aliyun" {
                        ALIYUN_ENDPOINT
                    } else {
                        TENCENT_ENDPOINT
                    }
                    .into();
                }
                if name == "tencent" && a.app_id.is_empty() {
                    return Err("tencent: sms_app_id is required".into());
                }
                Ok(Some(if name == "aliyun" {
                    SmsProvider::Aliyun(a, client()?)
                } else {
                    SmsProvider::Tencent(a, client()?)
                }))
            }
            other => Err(format!(
                "sms_provider: unknown provider {other} (file, aliyun, tencent)"
            )),
        }
    }

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
                // tokio writes in the background: the message is "delivered" only once it is
                // in the file, before the outbox records it sent.
                f.flush()
                    .await
                    .map_err(|e| SmsError::Temporary(e.to_string()))?;
                Ok(r.out_id.clone())
            }
            SmsProvider::Aliyun(a, client) => aliyun(a, client, r).await,
            SmsProvider::Tencent(a, client) => tencent(a, client, r).await,
        }
    }
}

/// RFC 3986 percent-encoding as Aliyun's signature wants it (space %20, `*` %2A, `~` kept).
fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Aliyun's RPC signature of `params` for `method`: Base64(HMAC-SHA1(secret + "&",
/// method & pct("/") & pct(sorted, encoded query))).
pub fn aliyun_signature(method: &str, params: &[(String, String)], secret: &str) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let query = sorted
        .iter()
        .map(|(k, v)| format!("{}={}", pct(k), pct(v)))
        .collect::<Vec<_>>()
        .join("&");
    let to_sign = format!("{method}&{}&{}", pct("/"), pct(&query));
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(format!("{secret}&").as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

async fn aliyun(
    a: &ApiAccount,
    client: &reqwest::Client,
    r: &SmsRequest,
) -> Result<String, SmsError> {
    let template_param: serde_json::Map<String, serde_json::Value> = r
        .params
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    // Aliyun takes mainland numbers without the country code, others with 00.
    let phone = r
        .phone
        .strip_prefix("+86")
        .map(str::to_string)
        .unwrap_or_else(|| r.phone.replacen('+', "00", 1));
    let mut params: Vec<(String, String)> = vec![
        ("AccessKeyId".into(), a.key_id.clone()),
        ("Action".into(), "SendSms".into()),
        ("Format".into(), "JSON".into()),
        ("OutId".into(), r.out_id.clone()),
        ("PhoneNumbers".into(), phone),
        ("RegionId".into(), "cn-hangzhou".into()),
        ("SignName".into(), r.sign.clone()),
        ("SignatureMethod".into(), "HMAC-SHA1".into()),
        (
            "SignatureNonce".into(),
            format!(
                "{}-{}",
                r.out_id,
                Utc::now().timestamp_nanos_opt().unwrap_or(0)
            ),
        ),
        ("SignatureVersion".into(), "1.0".into()),
        ("TemplateCode".into(), r.template.clone()),
        (
            "TemplateParam".into(),
            serde_json::Value::Object(template_param).to_string(),
        ),
        (
            "Timestamp".into(),
            Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        ),
        ("Version".into(), "2017-05-25".into()),
    ];
    let signature = aliyun_signature("POST", &params, &a.secret);
    params.push(("Signature".into(), signature));
    let resp = client
        .post(&a.endpoint)
        .form(&params)
        .send()
        .await
        .map_err(|e| SmsError::Temporary(e.to_string()))?;
    let status = resp.status();
    let body: serde_json::Value = resp
        .json()
        .await
        .map_err(|e| SmsError::Temporary(format!("{status}: {e}")))?;
    let code = body["Code"].as_str().unwrap_or("");
    if code == "OK" {
        return Ok(body["BizId"].as_str().unwrap_or(&r.out_id).to_string());
    }
    let msg = format!("{code}: {}", body["Message"].as_str().unwrap_or(""));
    // Throttling and the provider's own trouble are retried; everything else (a bad number,
    // template, signature, an account problem) is not.
    if code.starts_with("Throttling")
        || code.contains("LIMIT_CONTROL")
        || code.starts_with("ServiceUnavailable")
        || status.is_server_error()
    {
        Err(SmsError::Temporary(msg))
    } else {
        Err(SmsError::Rejected(msg))
    }
}

fn hmac256(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// Tencent Cloud's TC3-HMAC-SHA256 `Authorization` header for a JSON `payload` posted to
/// `host` at `timestamp` (seconds).
pub fn tencent_authorization(
    key_id: &str,
    secret: &str,
    host: &str,
    payload: &str,
    timestamp: i64,
) -> String {
    let date = chrono::DateTime::from_timestamp(timestamp, 0)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    let canonical = format!(
        "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:{host}\n\ncontent-type;host\n{}",
        hex::encode(Sha256::digest(payload.as_bytes()))
    );
    let scope = format!("{date}/sms/tc3_request");
    let to_sign = format!(
        "TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let k_date = hmac256(format!("TC3{secret}").as_bytes(), &date);
    let k_service = hmac256(&k_date, "sms");
    let k_signing = hmac256(&k_service, "tc3_request");
    let signature = hex::encode(hmac256(&k_signing, &to_sign));
    format!(
        "TC3-HMAC-SHA256 Credential={key_id}/{scope}, SignedHeaders=content-type;host, Signature={signature}"
    )
}

async fn tencent(
    a: &ApiAccount,
    client: &reqwest::Client,
    r: &SmsRequest,
) -> Result<String, SmsError> {
    let payload = serde_json::json!({
        "PhoneNumberSet": [r.phone],
        "SmsSdkAppId": a.app_id,
        "SignName": r.sign,
        "TemplateId": r.template,
        "TemplateParamSet": r.params.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>(),
        "SessionContext": r.out_id,
    })
    .to_string();
    let url =
        url::Url::parse(&a.endpoint).map_err(|e| SmsError::Rejected(format!("endpoint: {e}")))?;
    let host = match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => return Err(SmsError::Rejected("endpoint has no host".into())),
    };
    let ts = Utc::now().timestamp();
    let resp = client
        .post(url)
        .header(
            "Authorization",
            tencent_authorization(&a.key_id, &a.secret, &host, &payload, ts),
        )
        .header("Content-Type", "application/json; charset=utf-8")
        .header("Host", &host)
        .header("X-TC-Action", "SendSms")
        .header("X-TC-Timestamp", ts.to_string())
        .header("X-TC-Version", "2021-01-11")
        .header("X-TC-Region", "ap-guangzhou")
        .body(payload)
        .send()
        .await
        .map_err(|e| SmsError::Temporary(e.to_string()))?;
    let status = resp.status();
    let body: serde_json::Value = resp
        .json()
        .await
        .map_err(|e| SmsError::Temporary(format!("{status}: {e}")))?;
    let r0 = &body["Response"];
    if let Some(err) = r0.get("Error") {
        let code = err["Code"].as_str().unwrap_or("");
        let msg = format!("{code}: {}", err["Message"].as_str().unwrap_or(""));
        return Err(
            if code.starts_with("RequestLimitExceeded")
                || code.starts_with("InternalError")
                || code.starts_with("LimitExceeded")
            {
                SmsError::Temporary(msg)
            } else {
                SmsError::Rejected(msg)
            },
        );
    }
    let one = &r0["SendStatusSet"][0];
    let code = one["Code"].as_str().unwrap_or("");
    if code.eq_ignore_ascii_case("ok") {
        Ok(one["SerialNo"].as_str().unwrap_or(&r.out_id).to_string())
    } else {
        let msg = format!("{code}: {}", one["Message"].as_str().unwrap_or(""));
        Err(
            if code.starts_with("LimitExceeded") || code.starts_with("InternalError") {
                SmsError::Temporary(msg)
            } else {
                SmsError::Rejected(msg)
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Aliyun's documented example (help.aliyun.com, "签名机制"): the query of the
    /// SendSms example with AccessKeySecret `testSecret` signs to this value.
    #[test]
    fn aliyun_signature_matches_the_documented_example() {
        let params: Vec<(String, String)> = [
            ("AccessKeyId", "testId"),
            ("Action", "SendSms"),
            ("Format", "XML"),
            ("OutId", "123"),
            ("PhoneNumbers", "15300000001"),
            ("RegionId", "cn-hangzhou"),
            ("SignName", "阿里云短信测试专用"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "45e25e9b-0a6f-4070-8c85-2956eda1b466"),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", "SMS_71390007"),
            ("TemplateParam", "{\"customer\":\"test\"}"),
            ("Timestamp", "2017-07-12T02:42:19Z"),
            ("Version", "2017-05-25"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            aliyun_signature("GET", &params, "testSecret"),
            "zJDF+Lrzhj/ThnlvIToysFRq6t4="
        );
    }

    /// Tencent Cloud's documented TC3 example (cloud.tencent.com/document/api/213/30654 uses
    /// CVM; the signing steps are the same): the header has the credential scope and a
    /// 64-hex-digit signature, and changes with the body.
    #[test]
    fn tencent_authorization_has_its_shape() {
        let a = tencent_authorization(
            "AKID",
            "secret",
            "sms.tencentcloudapi.com",
            "{}",
            1_551_113_065,
        );
        assert!(a.starts_with("TC3-HMAC-SHA256 Credential=AKID/2019-02-25/sms/tc3_request, SignedHeaders=content-type;host, Signature="));
        assert_eq!(a.rsplit('=').next().unwrap().len(), 64);
        let b = tencent_authorization(
            "AKID",
            "secret",
            "sms.tencentcloudapi.com",
            "{\"a\":1}",
            1_551_113_065,
        );
        assert_ne!(a, b);
    }
}
