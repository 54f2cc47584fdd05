//! The data-subject actions on the 360 page (admins): download everything held about the
//! customer, and erase them after typing their name. Both go through the same functions as the
//! API (`guanxi_app::export::customer_dossier`, `guanxi_app::privacy::erase_customer`).

use crate::ui::session::Submitted;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use guanxi_domain::role::Permission;

use crate::state::AppState;
use crate::ui::session::{FormData, UiError, UiUser};
use guanxi_app::export::{customer_dossier, DossierFormat};

/// `GET /customers/{id}/export?format=json|xlsx`.
pub async fn export(
    State(st): State<AppState>,
    user: UiUser,
    Path(id): Path<i64>,
    q: FormData,
) -> Result<Response, UiError> {
    user.require(Permission::DataSubjectRights)?;
    let l = user.locale;
    let format = DossierFormat::parse(q.get("format"))
        .map_err(|e| UiError::from_api(l, crate::error::ApiError::BadQuery(e.0)))?;
    Ok(crate::download::file(
        customer_dossier(&st.store, &user.actor, l, id, format)
            .await
            .map_err(|e| UiError::from_api(l, e.into()))?,
    ))
}

/// `POST /customers/{id}/erase` with a reason and the customer's name typed as confirmation.
pub async fn erase(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::DataSubjectRights)?;
    let l = user.locale;
    let customer = guanxi_app::customers::read_in_list(&st.store, &user.actor, id)
        .await
        .map_err(crate::ui::session::page_err(l))?;
    if form.get("confirm") != Some(customer.name.trim()) {
        return Err(UiError::Invalid(
            l,
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![format!(
                "confirm: {}",
                crate::ui::text::t(l, "dsr.confirm_mismatch")
            )],
        ));
    }
    guanxi_app::privacy::erase_customer(
        &st.store,
        &user.actor,
        id,
        form.get("reason").unwrap_or(""),
    )
    .await
    .map_err(|e| UiError::from_api(l, e.into()))?;
    Ok(Redirect::to("/customers?erased=1").into_response())
}
