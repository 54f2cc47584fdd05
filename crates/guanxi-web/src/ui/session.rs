//! The browser side of authentication: a signed-in user taken from the session cookie (or a
//! redirect to the login page), the per-page context every template gets, form bodies and their
//! CSRF check.

use std::collections::HashMap;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use guanxi_domain::records::User;
use guanxi_domain::role::{Actor, Permission};

use crate::auth::SESSION_COOKIE;
use crate::i18n::Locale;
use crate::state::AppState;
use crate::ui::text;

/// Cookie remembering the language chosen on the login page (before anyone is signed in).
pub const LANG_COOKIE: &str = "gx_lang";

/// A signed-in browser user.
#[derive(Debug, Clone)]
pub struct UiUser {
    /// The user.
    pub user: User,
    /// Actor for store calls.
    pub actor: Actor,
    /// The session's CSRF token (rendered into forms and the htmx header).
    pub csrf: String,
    /// Language of the pages.
    pub locale: Locale,
    /// Path and query of this request (for "back to" links).
    pub path: String,
    /// May import from files (managers and admins; sales reps when the admin allows).
    pub may_import: bool,
}

impl UiUser {
    /// The template context of a page for this user.
    pub fn ctx(&self, title: &'static str) -> Ctx {
        Ctx {
            locale: self.locale,
            signed_in: true,
            user_name: self.user.display_name.clone(),
            csrf: self.csrf.clone(),
            path: self.path.clone(),
            title,
            can_write: self.actor.can(Permission::WriteCustomers),
            can_reassign: self.actor.can(Permission::ReassignCustomers),
            can_manage_users: self.actor.can(Permission::ManageUsers),
            can_audit: self.actor.can(Permission::ReadAudit),
            can_sensitive: self.actor.can(Permission::ViewSensitive),
            can_dsr: self.actor.can(Permission::DataSubjectRights),
            can_merge: crate::features::merge::pages::can_merge(self),
            can_import: self.may_import,
            role: Some(self.actor.role),
        }
    }

    /// Fails with the 403 page unless the user may import (see [`UiUser::may_import`]).
    pub fn require_import(&self) -> Result<(), UiError> {
        if self.may_import {
            Ok(())
        } else {
            Err(UiError::Forbidden(self.locale))
        }
    }

    /// Fails with the 403 page unless the user holds the permission.
    pub fn require(&self, p: Permission) -> Result<(), UiError> {
        if self.actor.can(p) {
            Ok(())
        } else {
            Err(UiError::Forbidden(self.locale))
        }
    }
}

fn is_htmx(headers: &HeaderMap) -> bool {
    headers.contains_key("hx-request")
}

/// Sends the browser to the login page, remembering where it was going. htmx requests get an
/// `HX-Redirect` so the whole page navigates, not a fragment.
fn to_login(parts: &Parts) -> Response {
    let next = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let target = format!("/login?next={}", urlencode(next));
    if is_htmx(&parts.headers) {
        (StatusCode::UNAUTHORIZED, [("hx-redirect", target)]).into_response()
    } else {
        Redirect::to(&target).into_response()
    }
}

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The language for a page nobody is signed in to: the login-page cookie, then the browser's
/// `Accept-Language`, then Chinese (most of our users).
pub fn anonymous_locale(headers: &HeaderMap) -> Locale {
    let jar = CookieJar::from_headers(headers);
    jar.get(LANG_COOKIE)
        .and_then(|c| Locale::from_code(c.value()))
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|h| h.to_str().ok())
                .and_then(Locale::from_accept_language)
        })
        .unwrap_or(Locale::ZhCn)
}

impl FromRequestParts<AppState> for UiUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Response> {
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(sid) = jar.get(SESSION_COOKIE).map(|c| c.value().to_string()) else {
            return Err(to_login(parts));
        };
        let session = match guanxi_app::sessions::session_for(&st.store, &sid).await {
            Ok(Some(s)) => s,
            Ok(None) => return Err(to_login(parts)),
            Err(e) => {
                return Err(UiError::Internal(
                    anonymous_locale(&parts.headers),
                    crate::error::chain(&e),
                )
                .into_response())
            }
        };
        let locale = Locale::from_code(&session.user.locale).unwrap_or(Locale::ZhCn);
        let actor = Actor::for_user(&session.user);
        // One read of the one-row policy, and only for a user the role alone does not let in.
        let may_import = guanxi_app::import::may_import(&st.store, &actor)
            .await
            .unwrap_or(false);
        Ok(UiUser {
            may_import,
            actor,
            user: session.user,
            csrf: session.csrf_token,
            locale,
            path: parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into()),
        })
    }
}

/// What every page template gets: language, who is signed in, the CSRF token, permissions
/// that decide which controls to show (the handlers check again on submit).
#[derive(Debug, Clone)]
pub struct Ctx {
    /// Page language.
    pub locale: Locale,
    /// Whether the navigation bar is shown.
    pub signed_in: bool,
    /// Display name of the user.
    pub user_name: String,
    /// CSRF token for forms and htmx.
    pub csrf: String,
    /// Current path and query.
    pub path: String,
    /// Catalogue key of the page title.
    pub title: &'static str,
    /// May create and edit customers.
    pub can_write: bool,
    /// May change owners.
    pub can_reassign: bool,
    /// May manage users and teams.
    pub can_manage_users: bool,
    /// May read the audit log.
    pub can_audit: bool,
    /// Sees unmasked ID numbers.
    pub can_sensitive: bool,
    /// Answers data-subject requests (export everything, erase).
    pub can_dsr: bool,
    /// May merge duplicates (writes one record, deletes the other).
    pub can_merge: bool,
    /// May import from files.
    pub can_import: bool,
    /// The signed-in user's role (none before sign-in), for [`Ctx::can`].
    pub role: Option<guanxi_domain::role::Role>,
}

impl Ctx {
    /// Context of a page shown before sign-in.
    pub fn anonymous(locale: Locale, title: &'static str) -> Self {
        Ctx {
            locale,
            signed_in: false,
            user_name: String::new(),
            csrf: String::new(),
            path: "/".into(),
            title,
            can_write: false,
            can_reassign: false,
            can_manage_users: false,
            can_audit: false,
            can_sensitive: false,
            can_dsr: false,
            can_import: false,
            can_merge: false,
            role: None,
        }
    }

    /// Whether the signed-in user's role holds `p` — what a feature's template asks to decide
    /// which controls to show, without a flag per permission here (handlers check again).
    pub fn can(&self, p: Permission) -> bool {
        self.role.is_some_and(|r| r.can(p))
    }

    /// A catalogue text in the page language.
    pub fn t(&self, key: &str) -> &'static str {
        text::t(self.locale, key)
    }

    /// A text about `n` things, singular or plural ([`text::count`]). Takes `&i64` too, as
    /// templates pass fields by reference.
    pub fn count(&self, key: &str, n: impl std::borrow::Borrow<i64>) -> String {
        text::count(self.locale, key, *n.borrow())
    }

    /// A text with named placeholders: `ctx.tf("dsr.confirm", &[("name", &name)])`.
    pub fn tf(&self, key: &str, args: &text::Args<'_>) -> String {
        text::tf(self.locale, key, args)
    }

    /// A text with one named placeholder, for templates: `ctx.t_with("dsr.confirm", "name", h.name)`.
    pub fn t_with(&self, key: &str, name: &str, value: &str) -> String {
        text::tf(self.locale, key, &[(name, &value)])
    }

    /// A text about `n` things with one more named placeholder, for templates.
    pub fn count_and(
        &self,
        key: &str,
        n: impl std::borrow::Borrow<i64>,
        name: &str,
        value: &str,
    ) -> String {
        text::count_with(self.locale, key, *n.borrow(), &[(name, &value)])
    }

    /// A text about `n` things with more named placeholders.
    pub fn count_with(
        &self,
        key: &str,
        n: impl std::borrow::Borrow<i64>,
        args: &text::Args<'_>,
    ) -> String {
        text::count_with(self.locale, key, *n.borrow(), args)
    }

    /// The label of a vocabulary code ("lifecycle_stage", "active") in the page language.
    pub fn label(&self, vocabulary: &str, code: &str) -> String {
        text::label(self.locale, vocabulary, code)
    }

    /// The `lang` attribute.
    pub fn lang(&self) -> &'static str {
        self.locale.code()
    }

    /// Whether the page is in Chinese (for the language switch).
    pub fn is_zh(&self) -> bool {
        self.locale == Locale::ZhCn
    }
}

/// A submitted form: every `name=value` pair in order (checkbox groups repeat a name).
#[derive(Debug, Clone, Default)]
pub struct FormData {
    pairs: Vec<(String, String)>,
    header_csrf: Option<String>,
    htmx: bool,
    files: Vec<(String, Vec<u8>)>,
}

impl FormData {
    /// Builds from pairs (tests and internal callers).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        Self {
            pairs,
            header_csrf: None,
            htmx: false,
            files: Vec::new(),
        }
    }

    /// Every `name=value` pair as submitted (a form shown again with what was typed).
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The files of a `multipart/form-data` form as `(name, bytes)`, taken out of the form
    /// (a form carries them once).
    pub fn take_files(&mut self) -> Vec<(String, Vec<u8>)> {
        std::mem::take(&mut self.files)
    }

    /// A whole number typed in a field: `None` when left empty; a value that is not a number
    /// is recorded in `errs` as `invalid_type` under `field` (the input's path in the use
    /// case's terms) and read as 0, so one round trip names every bad field.
    pub fn int(
        &self,
        name: &str,
        field: impl Into<String>,
        errs: &mut Vec<guanxi_domain::ValidationError>,
    ) -> Option<i64> {
        self.get(name).map(|x| {
            x.parse().unwrap_or_else(|_| {
                errs.push(guanxi_domain::ValidationError::new(field, "invalid_type"));
                0
            })
        })
    }

    /// First value of a field, trimmed; empty counts as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// A field exactly as typed, untrimmed (passwords).
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `version` field a form carries for optimistic locking; missing or not a number is
    /// a bad form.
    pub fn version(&self, locale: Locale) -> Result<i64, UiError> {
        self.get("version")
            .and_then(|v| v.parse().ok())
            .ok_or(UiError::BadForm(locale))
    }

    /// Every value of a field.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// Every value of a repeated field, trimmed, empty ones kept: rows of inputs (a segment's
    /// clauses) stay aligned by position.
    pub fn column(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .collect()
    }

    /// Whether a checkbox was ticked.
    pub fn checked(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The values as a map (last wins), for re-rendering a form with what the user typed.
    pub fn values(&self) -> HashMap<String, String> {
        self.pairs.iter().cloned().collect()
    }

    /// Whether htmx sent it (answer with a fragment, not a redirect).
    pub fn is_htmx(&self) -> bool {
        self.htmx
    }

    /// Checks the CSRF token sent in the `_csrf` field or the `X-CSRF-Token` header (htmx).
    fn check_csrf(&self, user: &UiUser) -> Result<(), UiError> {
        let sent = self
            .get("_csrf")
            .map(str::to_string)
            .or_else(|| self.header_csrf.clone())
            .unwrap_or_default();
        if crate::auth::constant_time_eq(sent.as_bytes(), user.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(UiError::Csrf(user.locale))
        }
    }
}

/// Most bytes accepted in a form body.
pub const MAX_FORM: usize = 256 * 1024;

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let locale = anonymous_locale(req.headers());
        let htmx = is_htmx(req.headers());
        let header_csrf = req
            .headers()
            .get(crate::auth::CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if req.method() != Method::GET
            && crate::extract::has_media_type(&req, "multipart/form-data")
        {
            let up = crate::extract::Upload::read(req, state)
                .await
                .map_err(|e| match e {
                    crate::error::ApiError::TooLarge => {
                        UiError::from_api(locale, e).into_response()
                    }
                    _ => UiError::BadForm(locale).into_response(),
                })?;
            return Ok(FormData {
                pairs: up.fields,
                header_csrf,
                htmx,
                files: up.files,
            });
        }
        let bytes = if req.method() == Method::GET {
            req.uri().query().unwrap_or("").as_bytes().to_vec().into()
        } else {
            axum::body::Bytes::from_request(req, state)
                .await
                .map_err(|_| UiError::BadForm(locale).into_response())?
        };
        if bytes.len() > MAX_FORM {
            return Err(UiError::BadForm(locale).into_response());
        }
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
            .map_err(|_| UiError::BadForm(locale).into_response())?;
        Ok(FormData {
            pairs,
            header_csrf,
            htmx,
            files: Vec::new(),
        })
    }
}

/// A form posted by a signed-in user whose CSRF token checked out: the only way a page
/// handler that changes something receives its body, so no handler can forget the check.
/// Put it last among the handler's arguments (it reads the body).
#[derive(Debug, Clone)]
pub struct Submitted {
    /// Who posted it.
    pub user: UiUser,
    /// What they posted.
    pub form: FormData,
}

impl FromRequest<AppState> for Submitted {
    type Rejection = Response;

    async fn from_request(req: Request, st: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let user = UiUser::from_request_parts(&mut parts, st).await?;
        let form = FormData::from_request(Request::from_parts(parts, body), st).await?;
        form.check_csrf(&user)
            .map_err(IntoResponse::into_response)?;
        Ok(Submitted { user, form })
    }
}

/// A form posted by a signed-in user, its CSRF token checked (as [`Submitted`]) and its fields
/// parsed into a typed input `T` through `TryFrom<&FormData>`: a handler receives domain types,
/// not strings. A form whose fields do not parse is answered 422 with each problem named by
/// field, in the user's language, before the handler runs. The raw form stays available for
/// what is not input (`next`, htmx).
#[derive(Debug, Clone)]
pub struct Typed<T> {
    /// Who posted it.
    pub user: UiUser,
    /// The parsed input.
    pub input: T,
    /// The form as posted.
    pub form: FormData,
}

impl<T> FromRequest<AppState> for Typed<T>
where
    T: for<'a> TryFrom<&'a FormData, Error = guanxi_domain::ValidationErrors>,
{
    type Rejection = Response;

    async fn from_request(req: Request, st: &AppState) -> Result<Self, Response> {
        let Submitted { user, form } = Submitted::from_request(req, st).await?;
        let input = T::try_from(&form).map_err(|e| {
            UiError::from_api(user.locale, crate::error::ApiError::Validation(e.0)).into_response()
        })?;
        Ok(Typed { user, input, form })
    }
}

/// A required field parsed by `parse`; its absence or a value `parse` refuses is a problem named
/// by the field (`required`, or the code `parse` gives).
pub fn field<T>(
    form: &FormData,
    e: &mut guanxi_domain::ValidationErrors,
    name: &str,
    parse: impl Fn(&str) -> Result<T, &'static str>,
) -> Option<T> {
    if form.get(name).is_none() {
        e.push(name, "required");
    }
    optional_field(form, e, name, parse)
}

/// An optional field parsed by `parse`: `None` when empty; a value `parse` refuses is a problem
/// named by the field (with the code `parse` gives).
pub fn optional_field<T>(
    form: &FormData,
    e: &mut guanxi_domain::ValidationErrors,
    name: &str,
    parse: impl Fn(&str) -> Result<T, &'static str>,
) -> Option<T> {
    form.get(name).and_then(|v| e.field(name, parse(v)))
}

/// The `version` a form carries (the one the user last read, for optimistic locking).
pub fn version_field(form: &FormData, e: &mut guanxi_domain::ValidationErrors) -> Option<i64> {
    field(form, e, "version", |v| {
        v.parse().map_err(|_| "invalid_type")
    })
}

/// The field errors a form page shows for a failed save (validation, a taken unique value, a
/// stale version); `None` for failures that are not the user's input.
pub fn api_errors(e: crate::error::ApiError) -> Option<Vec<guanxi_domain::ValidationError>> {
    use crate::error::ApiError;
    use guanxi_domain::ValidationError;
    match e {
        ApiError::Validation(v) => Some(v),
        ApiError::Duplicate(f) => Some(vec![ValidationError::new(f, "duplicate")]),
        ApiError::Conflict { .. } => Some(vec![ValidationError::new("version", "conflict")]),
        _ => None,
    }
}

/// A use case's refusal as a form page answers it: the field errors to show with the status
/// (409 for a stale version, 422 otherwise), or, for what is not the user's input (forbidden,
/// not found, a failure), the error page.
pub fn form_refusal(
    locale: Locale,
    e: guanxi_app::AppError,
) -> Result<(StatusCode, Vec<guanxi_domain::ValidationError>), UiError> {
    use crate::error::ApiError;
    let api: ApiError = e.into();
    let status = match &api {
        ApiError::Conflict { .. } => StatusCode::CONFLICT,
        ApiError::Validation(_) | ApiError::Duplicate(_) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => return Err(UiError::from_api(locale, api)),
    };
    Ok((status, api_errors(api).unwrap_or_default()))
}

/// A refused change as a record's page shows it again: the status, whether it was a stale
/// version (the page shows its conflict box instead of messages), and the field messages.
pub fn page_refusal(
    locale: Locale,
    e: guanxi_app::AppError,
) -> Result<(StatusCode, bool, Vec<String>), UiError> {
    let (status, errs) = form_refusal(locale, e)?;
    let conflict = status == StatusCode::CONFLICT;
    let msgs = if conflict {
        Vec::new()
    } else {
        field_messages(locale, &errs)
    };
    Ok((status, conflict, msgs))
}

/// Field errors as a form page lists them: "field: message" in the reader's language.
pub fn field_messages(locale: Locale, errs: &[guanxi_domain::ValidationError]) -> Vec<String> {
    errs.iter()
        .map(|e| {
            format!(
                "{}: {}",
                e.field,
                guanxi_text::i18n::message(locale, &e.code)
            )
        })
        .collect()
}

/// Failures of a page request, rendered as a page in the user's language.
#[derive(Debug)]
pub enum UiError {
    /// 404, or a record the user may not see (the two look the same on purpose).
    NotFound(Locale),
    /// 403.
    Forbidden(Locale),
    /// CSRF token missing or wrong.
    Csrf(Locale),
    /// Unparseable form.
    BadForm(Locale),
    /// A query parameter or value the page cannot use (400 for a query, 422 for a body), with
    /// each problem said in the user's language — the same status and fields as the API.
    Invalid(Locale, StatusCode, Vec<String>),
    /// Too many requests from this client (429).
    TooMany(Locale),
    /// The server or the database is busy for a moment (503); nothing was changed.
    Busy(Locale),
    /// A bug or an outage; logged, not shown.
    Internal(Locale, String),
}

/// Maps a failure of the application layer or the store to the page error in the reader's
/// language: the same status and field messages as the API's answer.
pub fn page_err<E: Into<crate::error::ApiError>>(l: Locale) -> impl Fn(E) -> UiError {
    move |e| UiError::from_api(l, e.into())
}

impl UiError {
    /// Maps a store or API error met while serving a page.
    pub fn from_api(locale: Locale, e: crate::error::ApiError) -> Self {
        use crate::error::ApiError as A;
        match e {
            A::NotFound | A::NoRoute => UiError::NotFound(locale),
            A::Forbidden => UiError::Forbidden(locale),
            A::Csrf => UiError::Csrf(locale),
            A::TooManyRequests => UiError::TooMany(locale),
            A::Busy => UiError::Busy(locale),
            A::BadQuery(_) | A::Validation(_) | A::Malformed(_) => {
                let (status, _) = e.status_and_code();
                let problems = e
                    .body(locale)
                    .fields
                    .into_iter()
                    .map(|f| format!("{}: {}", f.field, f.message))
                    .collect();
                UiError::Invalid(locale, status, problems)
            }
            other => UiError::Internal(locale, crate::error::chain(&other)),
        }
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let (status, locale, key) = match &self {
            UiError::NotFound(l) => (StatusCode::NOT_FOUND, *l, "error.not_found"),
            UiError::Forbidden(l) => (StatusCode::FORBIDDEN, *l, "error.forbidden"),
            UiError::Csrf(l) => (StatusCode::FORBIDDEN, *l, "error.csrf"),
            UiError::BadForm(l) => (StatusCode::BAD_REQUEST, *l, "error.bad_form"),
            UiError::TooMany(l) | UiError::Busy(l) => {
                let (status, key) = match self {
                    UiError::TooMany(_) => (StatusCode::TOO_MANY_REQUESTS, "error.too_many"),
                    _ => (StatusCode::SERVICE_UNAVAILABLE, "error.busy"),
                };
                let mut res = crate::ui::pages::error_page(status, *l, key);
                res.headers_mut().insert(
                    axum::http::header::RETRY_AFTER,
                    axum::http::HeaderValue::from(crate::error::RETRY_AFTER_SECONDS),
                );
                return res;
            }
            UiError::Invalid(l, status, problems) => {
                return crate::ui::pages::error_page_with(*status, *l, "error.bad_query", problems);
            }
            UiError::Internal(l, detail) => {
                tracing::error!(error = %detail, "page failed");
                (StatusCode::INTERNAL_SERVER_ERROR, *l, "error.internal")
            }
        };
        crate::ui::pages::error_page(status, locale, key)
    }
}
