//! Files on a ticket: uploading them with a message (API; the ticket page posts them with its
//! message form) and opening one (API and page). Checks and the audited read are the
//! application layer's (`guanxi_app::ticket::{post_message, attachment}`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use guanxi_domain::ticket::attachment::inline_type;
use guanxi_domain::ticket::records::Ticket;
use guanxi_domain::ticket::MessageKind;
use guanxi_domain::ValidationErrors;
use serde::Deserialize;
use utoipa::ToSchema;

use guanxi_app::ticket as uc;

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{PathId, PathIds, Upload};
use crate::state::AppState;
use crate::ui::session::{page_err, UiError, UiUser};

/// The multipart form of an upload (documentation of the body; the handler reads it part by
/// part).
#[derive(Debug, Deserialize, ToSchema)]
pub struct UploadForm {
    /// `note` (internal, the default), `reply` (to the customer) or `customer` (the customer
    /// sent it).
    pub kind: Option<MessageKind>,
    /// Text to go with the files.
    pub body: Option<String>,
    /// A file: png, jpg, gif, webp, pdf, ofd, txt, csv, docx, xlsx, pptx, doc, xls, mp3, wav,
    /// amr, m4a, mp4 or mov, within the desk's size limit; repeat the part for up to three.
    #[schema(value_type = String, format = Binary)]
    pub file: String,
}

/// Attach files to a ticket as a message (a note unless `kind` says otherwise). Each file's
/// type is checked against its contents; a refused type, a file over the desk's limit or more
/// than three files is a 422 naming `files[i]`, and nothing is stored.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/attachments", tag = "service",
    params(("id" = i64, Path, description = "Ticket id", minimum = 1)),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = Ticket), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn upload(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    up: Upload,
) -> Result<(StatusCode, Json<Ticket>), ApiError> {
    let kind = match up.get("kind") {
        None => MessageKind::Note,
        Some(k) => MessageKind::parse(k)
            .map_err(|code| ApiError::Validation(ValidationErrors::single("kind", code).0))?,
    };
    if up.files.is_empty() {
        return Err(ApiError::Validation(
            ValidationErrors::single("files", "required").0,
        ));
    }
    let body = up.get("body").unwrap_or("").to_string();
    let t = uc::post_message(&st.store, &auth.actor, id, kind, &body, up.files).await?;
    Ok((StatusCode::CREATED, Json(t)))
}

/// A ticket's file, as uploaded; the read is audited.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/attachments/{attachment_id}", tag = "service",
    params(("id" = i64, Path, description = "Ticket id", minimum = 1),
           ("attachment_id" = i64, Path, description = "Attachment id", minimum = 1)),
    responses((status = 200, description = "The file, typed as the upload check decided \
        (image/png, application/pdf …)", content_type = "*/*"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn download(
    State(st): State<AppState>,
    auth: Auth,
    PathIds(ticket, id): PathIds,
) -> Result<Response, ApiError> {
    let (a, bytes) = uc::attachment(&st.store, &auth.actor, ticket, id).await?;
    Ok(crate::download::stored(
        &a.file_name,
        &a.content_type,
        false,
        bytes,
    ))
}

/// A ticket's file opened from the ticket page: pictures show in the browser, other files
/// download.
pub async fn open(
    State(st): State<AppState>,
    user: UiUser,
    Path((ticket, id)): Path<(i64, i64)>,
) -> Result<Response, UiError> {
    let (a, bytes) = uc::attachment(&st.store, &user.actor, ticket, id)
        .await
        .map_err(page_err(user.locale))?;
    Ok(crate::download::stored(
        &a.file_name,
        &a.content_type,
        inline_type(&a.content_type),
        bytes,
    ))
}
