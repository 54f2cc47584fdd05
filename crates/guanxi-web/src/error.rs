//! Errors of the web layer and their one mapping to HTTP. Handlers return [`ApiError`]; the
//! response carries the error as an extension and the [`localize`] middleware renders the JSON
//! body `{error, message, fields}` in the caller's language.

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use guanxi_domain::{ValidationError, ValidationErrors};
use guanxi_store::duplicates::DuplicateCandidate;
use guanxi_store::StoreError;
use serde::Serialize;

use crate::i18n::{message, Locale};

/// Everything a handler can fail with.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// Fields failed validation (422).
    #[error("validation failed")]
    Validation(Vec<ValidationError>),
    /// The body could not be parsed (400), with the offending field when known.
    #[error("malformed body")]
    Malformed(Option<ValidationError>),
    /// A query parameter is invalid (400).
    #[error("bad query")]
    BadQuery(Vec<ValidationError>),
    /// No or invalid credentials (401).
    #[error("unauthenticated")]
    Unauthenticated,
    /// Wrong username or password (401).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Authenticated but not allowed (403).
    #[error("forbidden")]
    Forbidden,
    /// CSRF token missing or wrong (403).
    #[error("csrf failed")]
    Csrf,
    /// Not found or not visible (404).
    #[error("not found")]
    NotFound,
    /// No such route (404).
    #[error("no route")]
    NoRoute,
    /// Method not allowed (405).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// Stale version (409).
    #[error("conflict")]
    Conflict {
        /// Current version.
        current_version: i64,
        /// Who changed it last.
        updated_by: Option<i64>,
    },
    /// Unique value taken (409).
    #[error("duplicate")]
    Duplicate(&'static str),
    /// A customer the caller can see already has this mobile, email, WeChat or ID number (409);
    /// send `allow_duplicate: true` to create anyway.
    #[error("possible duplicate")]
    PossibleDuplicate(Vec<DuplicateCandidate>),
    /// Body too large (413).
    #[error("payload too large")]
    TooLarge,
    /// Not JSON (415).
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// Throttled (429), with `Retry-After`.
    #[error("too many requests")]
    TooManyRequests,
    /// The server is at its limit of requests in flight, or the database is held by a long
    /// write for longer than a request may wait (503, with `Retry-After`). Nothing was changed.
    #[error("busy")]
    Busy,
    /// A bug or an outage (500); the cause with its whole source chain is logged, not sent.
    #[error("internal error: {0}")]
    Internal(#[source] Cause),
}

/// The cause of an internal error, kept as an error (not a string) so its source chain
/// reaches the log; shared so [`ApiError`] stays `Clone`.
#[derive(Debug, Clone)]
pub struct Cause(std::sync::Arc<dyn std::error::Error + Send + Sync>);

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl ApiError {
    /// An internal error caused by `e` (its source chain is kept for the log).
    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        ApiError::Internal(Cause(std::sync::Arc::new(e)))
    }

    /// An internal error described in words (a broken invariant, no underlying error).
    pub fn bug(what: impl Into<String>) -> Self {
        #[derive(Debug, thiserror::Error)]
        #[error("{0}")]
        struct Bug(String);
        Self::internal(Bug(what.into()))
    }
}

/// An error and every source under it, `outer: inner: innermost` — what the log records.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(s) = next {
        let text = s.to_string();
        // Many errors repeat their source in their own message; say each part once.
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = s.source();
    }
    out
}

impl From<ValidationErrors> for ApiError {
    fn from(e: ValidationErrors) -> Self {
        ApiError::Validation(e.0)
    }
}

impl From<guanxi_app::AppError> for ApiError {
    fn from(e: guanxi_app::AppError) -> Self {
        use guanxi_app::AppError;
        match e {
            AppError::Forbidden => ApiError::Forbidden,
            AppError::Invalid(v) => ApiError::Validation(v.0),
            AppError::InvalidQuery(v) => ApiError::BadQuery(v.0),
            AppError::PossibleDuplicate(c) => ApiError::PossibleDuplicate(c),
            AppError::InvalidCredentials => ApiError::InvalidCredentials,
            AppError::TooManyAttempts => ApiError::TooManyRequests,
            AppError::Store(s) => s.into(),
            other => ApiError::internal(other),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict {
                current,
                updated_by,
            } => ApiError::Conflict {
                current_version: current,
                updated_by,
            },
            StoreError::Duplicate { field } => ApiError::Duplicate(field),
            StoreError::Invalid(v) => ApiError::Validation(v.0),
            StoreError::Busy => ApiError::Busy,
            other => ApiError::internal(other),
        }
    }
}

impl ApiError {
    /// The same error met while reading a query string: field problems there are a 400
    /// (`bad_query`), not the 422 of a request body.
    pub fn in_query(self) -> ApiError {
        match self {
            ApiError::Validation(v) => ApiError::BadQuery(v),
            other => other,
        }
    }

    /// HTTP status and stable code.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
            ApiError::Malformed(_) => (StatusCode::BAD_REQUEST, "malformed_json"),
            ApiError::BadQuery(_) => (StatusCode::BAD_REQUEST, "bad_query"),
            ApiError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            ApiError::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
            ApiError::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::Csrf => (StatusCode::FORBIDDEN, "csrf_failed"),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::NoRoute => (StatusCode::NOT_FOUND, "no_route"),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::Conflict { .. } => (StatusCode::CONFLICT, "conflict"),
            ApiError::Duplicate(_) => (StatusCode::CONFLICT, "duplicate"),
            ApiError::PossibleDuplicate(_) => (StatusCode::CONFLICT, "possible_duplicate"),
            ApiError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::UnsupportedMediaType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::TooManyRequests => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
            ApiError::Busy => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
        }
    }

    /// The JSON body in one language.
    pub fn body(&self, locale: Locale) -> ErrorBody {
        let (_, code) = self.status_and_code();
        let field = |e: &ValidationError| FieldError {
            field: e.field.clone(),
            code: e.code.clone(),
            message: message(locale, &e.code).to_string(),
        };
        let fields = match self {
            ApiError::Validation(v) | ApiError::BadQuery(v) => v.iter().map(field).collect(),
            ApiError::Malformed(Some(e)) => vec![field(e)],
            ApiError::Duplicate(f) => vec![FieldError {
                field: (*f).to_string(),
                code: "duplicate".into(),
                message: message(locale, "duplicate").into(),
            }],
            ApiError::PossibleDuplicate(c) => {
                let mut fields: Vec<FieldError> = Vec::new();
                for d in c {
                    if !fields.iter().any(|f| f.field == d.field) {
                        fields.push(FieldError {
                            field: d.field.clone(),
                            code: "possible_duplicate".into(),
                            message: message(locale, "possible_duplicate").into(),
                        });
                    }
                }
                fields
            }
            _ => Vec::new(),
        };
        let (current_version, updated_by) = match self {
            ApiError::Conflict {
                current_version,
                updated_by,
            } => (Some(*current_version), *updated_by),
            _ => (None, None),
        };
        ErrorBody {
            error: code.to_string(),
            message: message(locale, code).to_string(),
            fields,
            current_version,
            updated_by,
            candidates: match self {
                ApiError::PossibleDuplicate(c) => c.clone(),
                _ => Vec::new(),
            },
            request_id: crate::request_id::current(),
        }
    }
}

/// The error body every endpoint returns.
#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine code.
    pub error: String,
    /// Localised message for people.
    pub message: String,
    /// Field-level problems.
    pub fields: Vec<FieldError>,
    /// For 409 on a stale version: the version now stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i64>,
    /// For 409 on a stale version: who changed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<i64>,
    /// For 409 `possible_duplicate`: the customers (visible to you) that already have the value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<DuplicateCandidate>,
    /// The request's id (also the `X-Request-Id` header): quote it when reporting a problem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// One field's problem.
#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct FieldError {
    /// Dotted path.
    pub field: String,
    /// Stable code.
    pub code: String,
    /// Localised message.
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, _) = self.status_and_code();
        if let ApiError::Internal(cause) = &self {
            tracing::error!(error = %chain(cause), "internal error");
        }
        // Rendered by `localize`; the English body is the fallback if that layer is absent.
        let body = serde_json::to_vec(&self.body(Locale::En)).unwrap_or_default();
        let mut res = (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response();
        if matches!(self, ApiError::Busy | ApiError::TooManyRequests) {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        }
        res.extensions_mut().insert(self);
        res
    }
}

/// What a 429 or 503 tells the client to wait before trying again, unless the answer knows
/// better (the rate limiter says when the client's next request is allowed).
pub const RETRY_AFTER_SECONDS: u64 = 1;

/// The language for this request: `Accept-Language`, else English for API clients.
pub fn request_locale(req: &Request) -> Locale {
    req.headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|h| h.to_str().ok())
        .and_then(Locale::from_accept_language)
        .unwrap_or(Locale::En)
}

/// Middleware: re-renders error bodies in the request's language.
pub async fn localize(req: Request, next: Next) -> Response {
    let locale = request_locale(&req);
    let mut res = next.run(req).await;
    if let Some(err) = res.extensions_mut().remove::<ApiError>() {
        let status = res.status();
        let body = serde_json::to_vec(&err.body(locale)).unwrap_or_default();
        let mut out = (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response();
        for (k, v) in res.headers() {
            if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
                out.headers_mut().insert(k.clone(), v.clone());
            }
        }
        out.headers_mut().insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(locale.code()),
        );
        return out;
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The log line of an internal error names every cause, not only the outermost.
    #[test]
    fn an_internal_error_keeps_its_source_chain() {
        #[derive(Debug, thiserror::Error)]
        #[error("backup failed")]
        struct Outer(#[source] std::io::Error);
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "disk is read-only");
        let e = ApiError::internal(Outer(io));
        let text = chain(&e);
        assert!(text.starts_with("internal error: backup failed"), "{text}");
        assert!(text.contains("disk is read-only"), "{text}");
        assert_eq!(e.status_and_code().0, StatusCode::INTERNAL_SERVER_ERROR);
    }
}
