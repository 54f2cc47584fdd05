//! Request extractors that speak our error format: a strict JSON body (content type checked,
//! size limited, unknown fields rejected with the offending path) and query strings.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::header;
use axum::http::request::Parts;
use guanxi_domain::ValidationError;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Most bytes accepted in a JSON body.
pub const MAX_JSON_BODY: usize = 1024 * 1024;

/// A JSON body deserialised strictly.
pub struct JsonBody<T>(pub T);

/// Turns a serde error at a path into a field-level error.
fn field_error(path: &str, msg: &str) -> ValidationError {
    // serde_path_to_error already ends the path with an unknown field's own name.
    let join = |leaf: &str| {
        if path.is_empty() || path == "." {
            leaf.to_string()
        } else if path == leaf || path.ends_with(&format!(".{leaf}")) {
            path.to_string()
        } else {
            format!("{path}.{leaf}")
        }
    };
    let quoted = |m: &str| m.split('`').nth(1).unwrap_or("").to_string();
    if msg.starts_with("unknown field") {
        ValidationError::new(join(&quoted(msg)), "unknown_field")
    } else if msg.starts_with("missing field") {
        ValidationError::new(join(&quoted(msg)), "required")
    } else if msg.starts_with("unknown variant") || msg.starts_with("unknown ") {
        ValidationError::new(path.trim_start_matches('.'), "unknown_value")
    } else {
        ValidationError::new(path.trim_start_matches('.'), "invalid_type")
    }
}

/// Whether a request's body is of this media type (parameters such as `charset` ignored).
pub fn has_media_type(req: &Request, media_type: &str) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case(media_type))
        })
}

/// Parses JSON bytes into `T`, reporting the first problem with its field path.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            ApiError::Malformed(None)
        } else {
            let msg = inner.to_string();
            ApiError::Malformed(Some(field_error(&path, &msg)))
        }
    })
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !has_media_type(&req, "application/json") {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge
            } else {
                ApiError::Malformed(None)
            }
        })?;
        if bytes.len() > MAX_JSON_BODY {
            return Err(ApiError::TooLarge);
        }
        parse_json(&bytes).map(JsonBody)
    }
}

/// A query string deserialised into `T`; problems are 400 with the parameter named.
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(QueryParams(v)),
            Err(e) => {
                let text = e.body_text();
                let field = text.split('`').nth(1).unwrap_or("query").to_string();
                let code = if text.contains("unknown field") {
                    "unknown_field"
                } else if text.contains("unknown variant") {
                    "unknown_value"
                } else {
                    "invalid_type"
                };
                Err(ApiError::BadQuery(vec![ValidationError::new(field, code)]))
            }
        }
    }
}

/// A numeric id from the path; anything else is a 400 naming `id`.
pub struct PathId(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<i64>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(id)) if id > 0 => Ok(PathId(id)),
            _ => Err(ApiError::BadQuery(vec![ValidationError::new(
                "id",
                "invalid_type",
            )])),
        }
    }
}

/// Two numeric ids from the path (`/tickets/{id}/attachments/{attachment_id}`); anything else
/// is a 400 naming `id`.
pub struct PathIds(pub i64, pub i64);

impl<S: Send + Sync> FromRequestParts<S> for PathIds {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<(i64, i64)>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path((a, b))) if a > 0 && b > 0 => Ok(PathIds(a, b)),
            _ => Err(ApiError::BadQuery(vec![ValidationError::new(
                "id",
                "invalid_type",
            )])),
        }
    }
}

/// Most bytes of one upload request: the most files a message carries at the largest size an
/// admin may allow, and room for the text fields. The per-file limit the desk set is checked
/// by the application layer, with a field-level error.
pub const MAX_UPLOAD: usize = guanxi_domain::ticket::attachment::MAX_FILES
    * (guanxi_domain::ticket::attachment::CEILING_KB as usize)
    * 1024
    + MAX_TEXT_FIELDS;

/// Most bytes of the text fields of a multipart form together.
pub const MAX_TEXT_FIELDS: usize = 256 * 1024;

/// A `multipart/form-data` body: its text fields in order and its files as `(name, bytes)`.
/// A file part with an empty name (an empty file input) is skipped.
#[derive(Debug, Default)]
pub struct Upload {
    /// Text fields.
    pub fields: Vec<(String, String)>,
    /// Files.
    pub files: Vec<(String, Vec<u8>)>,
}

impl Upload {
    /// Reads a multipart body; a body over [`MAX_UPLOAD`] is [`ApiError::TooLarge`], one that is
    /// not multipart [`ApiError::UnsupportedMediaType`].
    pub async fn read<S: Send + Sync>(req: Request, state: &S) -> Result<Self, ApiError> {
        if !has_media_type(&req, "multipart/form-data") {
            return Err(ApiError::UnsupportedMediaType);
        }
        let mut mp = axum::extract::Multipart::from_request(req, state)
            .await
            .map_err(|e| {
                if e.status() == axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE {
                    ApiError::UnsupportedMediaType
                } else {
                    ApiError::Malformed(None)
                }
            })?;
        let mut out = Upload::default();
        let mut text = 0usize;
        loop {
            let field = match mp.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => return Err(upload_error(e.status())),
            };
            let name = field.name().unwrap_or("").to_string();
            match field.file_name().map(str::to_string) {
                Some(file_name) => {
                    let bytes = field.bytes().await.map_err(|e| upload_error(e.status()))?;
                    if !file_name.is_empty() || !bytes.is_empty() {
                        out.files.push((file_name, bytes.to_vec()));
                    }
                }
                None => {
                    let value = field.text().await.map_err(|e| upload_error(e.status()))?;
                    text += value.len();
                    if text > MAX_TEXT_FIELDS {
                        return Err(ApiError::TooLarge);
                    }
                    out.fields.push((name, value));
                }
            }
        }
        Ok(out)
    }

    /// A text field's first value, trimmed; empty counts as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }
}

fn upload_error(status: axum::http::StatusCode) -> ApiError {
    if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge
    } else {
        ApiError::Malformed(None)
    }
}

impl<S: Send + Sync> FromRequest<S> for Upload {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Upload::read(req, state).await
    }
}

/// A page size from the query: `default` when absent, 400 when outside `1..=max` (the range
/// the OpenAPI document declares), rather than a silent clamp the caller never learns of.
pub fn page_limit(v: Option<i64>, default: i64, max: i64) -> Result<i64, ApiError> {
    match v {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::BadQuery(vec![ValidationError::new(
            "limit",
            "out_of_range",
        )])),
    }
}

/// The client's network address, when the server was started with connect info (the real
/// server always is): the login throttle counts failures per address. Proxies are not
/// trusted: behind one, every client shares the proxy's address and its ceiling.
pub struct ClientAddr(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        a: i64,
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        inner: Inner,
    }

    fn fields(r: Result<Outer, ApiError>) -> (String, String) {
        match r {
            Err(ApiError::Malformed(Some(e))) => (e.field, e.code),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn paths_are_reported() {
        assert_eq!(
            fields(parse_json(br#"{"inner": {"a": 1, "b": 2}}"#)),
            ("inner.b".into(), "unknown_field".into())
        );
        assert_eq!(
            fields(parse_json(br#"{"inner": {"a": 1}, "x": 1}"#)),
            ("x".into(), "unknown_field".into())
        );
        assert_eq!(
            fields(parse_json(br#"{"inner": {}}"#)),
            ("inner.a".into(), "required".into())
        );
        assert_eq!(
            fields(parse_json(br#"{"inner": {"a": "x"}}"#)),
            ("inner.a".into(), "invalid_type".into())
        );
        assert!(matches!(
            parse_json::<Outer>(b"{"),
            Err(ApiError::Malformed(None))
        ));
    }
}
