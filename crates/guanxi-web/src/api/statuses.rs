//! The error statuses every route shares, declared once for the whole OpenAPI document
//! instead of in each of ~50 `#[utoipa::path]`s: every route can answer 429 and 503 (overload,
//! a database held by a long write), an authenticated route can answer 401 and
//! 403, a route with a path or query parameter 400, one with a path id 404, a route with a JSON body 400, 413, 415 and
//! 422 (the extractors in [`crate::extract`] and the auth layer produce exactly these, with an
//! `ErrorBody`). A status a route declares itself is kept as written.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{Schema, SchemaType, Type};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};

/// Every route: the overload guard ([`crate::overload`]) and a database held by a long write.
const OVERLOAD: [(&str, &str); 2] = [
    (
        "429",
        "Too many requests from this client address; wait `Retry-After` seconds.",
    ),
    (
        "503",
        "The server is at its limit of requests in flight, or the database is held by a long \
         write; nothing was changed. Retry after `Retry-After` seconds.",
    ),
];

/// The shared statuses and what they mean, in the order of the checks.
const AUTH: [(&str, &str); 2] = [
    (
        "401",
        "Not signed in, or the token is unknown, expired or revoked.",
    ),
    ("403", "Signed in, but the role does not allow this."),
];
const PARAMS: [(&str, &str); 1] = [("400", "A path or query parameter is malformed.")];
const PATH: [(&str, &str); 1] = [(
    "404",
    "No such record, or one outside the caller's record scope (the two look the same).",
)];
const BODY: [(&str, &str); 4] = [
    (
        "400",
        "The body is not valid JSON or a field has the wrong type.",
    ),
    ("413", "The body is larger than the server accepts."),
    ("415", "The body is not `application/json`."),
    ("422", "Fields failed validation; `fields` names each one."),
];

fn is_public(op: &Operation) -> bool {
    op.security.as_ref().is_some_and(|reqs| {
        reqs.iter()
            .all(|r| serde_json::to_value(r).is_ok_and(|v| v == serde_json::json!({})))
    })
}

fn declare(op: &mut Operation, statuses: &[(&str, &str)]) {
    for (code, description) in statuses {
        op.responses
            .responses
            .entry((*code).to_string())
            .or_insert_with(|| {
                ResponseBuilder::new()
                    .description(*description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("ErrorBody")))
                            .build(),
                    )
                    .build()
                    .into()
            });
    }
}

/// Every integer path parameter is a row id, and ids start at 1 ([`crate::extract::PathId`]
/// answers 400 below that): say so in the schema, once for all routes.
fn ids_start_at_one(op: &mut Operation) {
    for p in op.parameters.iter_mut().flatten() {
        if !matches!(p.parameter_in, ParameterIn::Path) {
            continue;
        }
        if let Some(RefOr::T(Schema::Object(o))) = p.schema.as_mut() {
            if matches!(o.schema_type, SchemaType::Type(Type::Integer)) && o.minimum.is_none() {
                o.minimum = Some(utoipa::Number::Int(1));
            }
        }
    }
}

/// Adds the shared error statuses to every operation of `doc`, and the lower bound of path ids.
pub fn declare_shared_statuses(doc: &mut OpenApi) {
    for item in doc.paths.paths.values_mut() {
        let ops = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in ops.into_iter().flatten() {
            ids_start_at_one(op);
            declare(op, &OVERLOAD);
            if !is_public(op) {
                declare(op, &AUTH);
            }
            let has_params = op.parameters.as_ref().is_some_and(|ps| {
                ps.iter()
                    .any(|p| matches!(p.parameter_in, ParameterIn::Path | ParameterIn::Query))
            });
            if has_params {
                declare(op, &PARAMS);
            }
            let has_path = op.parameters.as_ref().is_some_and(|ps| {
                ps.iter()
                    .any(|p| matches!(p.parameter_in, ParameterIn::Path))
            });
            if has_path {
                declare(op, &PATH);
            }
            if op.request_body.is_some() {
                declare(op, &BODY);
            }
        }
    }
}
