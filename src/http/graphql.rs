//! `GET` and `POST /graphql`, following GraphQL over HTTP: read top to
//! bottom, a request is negotiated (`Accept`), authenticated, parsed into
//! one operation or a batch (`params`), its document resolved (text,
//! registered document or persisted query: `persisted`), checked (GET runs
//! queries only), given its own context and loaders, executed, passed
//! through the error filter, and answered with the status the media type
//! calls for and, for GET, HTTP caching headers (`http_cache`).
//!
//! async-graphql-axum's stock extractor is not used: it answers 400 for
//! every malformed request whatever the `Accept`, does not refuse
//! mutations over GET, and cannot omit `data` on request errors.

use async_graphql::parser::types::OperationType;
use async_graphql::{CacheControl, ServerError, Variables};
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::header::{ALLOW, CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use serde_json::{Value, json};

use crate::app::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, ErrorCode};
use crate::graphql::{Loaders, RequestCtx};
use crate::http::auth::bearer_viewer;
use crate::http::http_cache;
use crate::http::media::{self, ResponseMedia};
use crate::http::params::{self, Batch, GraphQLParams, Refusal};
use crate::persisted::{self, Document};

pub async fn post(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let Some(media) = ResponseMedia::negotiate(&headers) else {
        return not_acceptable();
    };
    let viewer = match bearer_viewer(&state, &headers) {
        Ok(viewer) => viewer,
        Err(error) => return refusal_from_app(&error).into_response(media),
    };
    if !media::is_json_body(&headers) {
        return Refusal::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::BadUserInput,
            "send the request body as JSON with `Content-Type: application/json`",
        )
        .into_response(media);
    }
    let body = match axum::body::to_bytes(body, state.config.request_body_limit).await {
        Ok(body) => body,
        Err(_) => {
            return Refusal::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::BadUserInput,
                format!(
                    "the request body is larger than the limit of {} bytes",
                    state.config.request_body_limit
                ),
            )
            .into_response(media);
        }
    };
    match params::parse_post_body(&body) {
        Ok(Batch::Single(params)) => {
            execute_single(&state, viewer, media, Method::POST, &headers, *params).await
        }
        Ok(Batch::Many(batch)) => execute_batch(&state, viewer, media, batch).await,
        Err(refusal) => refusal.into_response(media),
    }
}

pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(media) = ResponseMedia::negotiate(&headers) else {
        return not_acceptable();
    };
    let viewer = match bearer_viewer(&state, &headers) {
        Ok(viewer) => viewer,
        Err(error) => return refusal_from_app(&error).into_response(media),
    };
    match params::parse_get_query(query.as_deref().unwrap_or("")) {
        Ok(params) => execute_single(&state, viewer, media, Method::GET, &headers, params).await,
        Err(refusal) => refusal.into_response(media),
    }
}

impl Refusal {
    fn into_response(self, media: ResponseMedia) -> Response {
        let body = json!({
            "errors": [{ "message": self.message, "extensions": { "code": self.code.as_str() } }]
        });
        let mut response = json_response(media, self.status, &body);
        if let Some(allow) = self.allow {
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static(allow));
        }
        response
    }
}

fn refusal_from_app(error: &AppError) -> Refusal {
    Refusal::new(error.status(), error.code(), error.to_string())
}

/// Why a document cannot run, as HTTP. A hash-only APQ miss is a 200, as
/// Apollo's clients expect before they send the text.
fn document_refusal(refusal: persisted::Refusal) -> Refusal {
    match refusal {
        persisted::Refusal::NotFound { apq: true } => Refusal::new(
            StatusCode::OK,
            ErrorCode::PersistedQueryNotFound,
            "PersistedQueryNotFound",
        ),
        persisted::Refusal::NotFound { apq: false } => Refusal::new(
            StatusCode::NOT_FOUND,
            ErrorCode::PersistedQueryNotFound,
            "no registered document has this id: check the id, or register the document with its client's manifest",
        ),
        persisted::Refusal::BadRequest(message) => Refusal::bad_request(message),
        persisted::Refusal::NotAllowed(message) => {
            Refusal::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, message)
        }
    }
}

fn to_request(
    document: Document,
    params: GraphQLParams,
    context: RequestCtx,
) -> async_graphql::Request {
    let mut request = document.into_request();
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if let Some(variables) = params.variables {
        request = request.variables(Variables::from_json(Value::Object(variables)));
    }
    if let Some(extensions) = params.extensions {
        for (key, value) in extensions {
            if let Ok(value) = async_graphql::Value::from_json(value) {
                request.extensions.insert(key, value);
            }
        }
    }
    request.data(context)
}

fn request_context(state: &AppState, viewer: Viewer) -> RequestCtx {
    RequestCtx {
        viewer,
        database: state.database.clone(),
        cache: state.cache.clone(),
        loaders: Loaders::new(
            &state.database,
            &state.cache,
            viewer.tenant,
            state.config.dataloader_delay,
        ),
    }
}

async fn execute_single(
    state: &AppState,
    viewer: Viewer,
    media: ResponseMedia,
    method: Method,
    headers: &HeaderMap,
    mut params: GraphQLParams,
) -> Response {
    let document_request = std::mem::take(&mut params.document);
    let document = match state
        .documents
        .resolve(viewer.tenant, document_request)
        .await
    {
        Ok(document) => document,
        Err(refusal) => return no_store(document_refusal(refusal).into_response(media)),
    };
    if method == Method::GET
        && let Some(operation) = document.operation_type(params.operation_name.as_deref())
        && operation != OperationType::Query
    {
        return Refusal {
            status: StatusCode::METHOD_NOT_ALLOWED,
            code: ErrorCode::BadUserInput,
            message: "GET runs queries only: send mutations with POST".into(),
            allow: Some("POST"),
        }
        .into_response(media);
    }

    let schema = state.schema_for(&document);
    let request = to_request(document, params, request_context(state, viewer));
    let (body, outcome) = render(schema.execute(request).await);
    let status = if outcome.request_error && media == ResponseMedia::GraphQLResponseJson {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    if method != Method::GET || outcome.has_errors {
        return no_store(bytes_response(media, status, bytes));
    }
    let etag = http_cache::etag(&viewer, &bytes);
    let mut response = if http_cache::not_modified(headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        bytes_response(media, status, bytes)
    };
    http_cache::set_cacheable(response.headers_mut(), etag, &outcome.cache_control);
    response
}

async fn execute_batch(
    state: &AppState,
    viewer: Viewer,
    media: ResponseMedia,
    batch: Vec<GraphQLParams>,
) -> Response {
    // In order, one after another: a later operation sees an earlier one's
    // writes, as if the client had sent them one by one.
    let mut responses = Vec::with_capacity(batch.len());
    for mut params in batch {
        let document_request = std::mem::take(&mut params.document);
        let answer = match state
            .documents
            .resolve(viewer.tenant, document_request)
            .await
        {
            Ok(document) => {
                let schema = state.schema_for(&document);
                let request = to_request(document, params, request_context(state, viewer));
                serde_json::to_value(render(schema.execute(request).await).0).unwrap_or_default()
            }
            Err(refusal) => {
                let refusal = document_refusal(refusal);
                json!({ "errors": [{ "message": refusal.message, "extensions": { "code": refusal.code.as_str() } }] })
            }
        };
        responses.push(answer);
    }
    no_store(json_response(media, StatusCode::OK, &responses))
}

/// A response body as the spec shapes it: no `data` entry at all for a
/// request error (nothing executed).
#[derive(serde::Serialize)]
struct ResponseBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<async_graphql::Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<ServerError>,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    extensions: std::collections::BTreeMap<String, async_graphql::Value>,
}

/// What the handler needs to know about an executed response.
struct Outcome {
    /// Nothing executed (400 under `application/graphql-response+json`).
    request_error: bool,
    has_errors: bool,
    cache_control: CacheControl,
}

/// The response after the error filter.
fn render(response: async_graphql::Response) -> (ResponseBody, Outcome) {
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|error| error.path.is_empty());
    let outcome = Outcome {
        request_error,
        has_errors: !response.errors.is_empty(),
        cache_control: response.cache_control,
    };
    let mut errors = response.errors;
    for error in &mut errors {
        filter_error(error);
    }
    let body = ResponseBody {
        data: (!request_error).then_some(response.data),
        errors,
        extensions: response.extensions,
    };
    (body, outcome)
}

/// The last pass over errors: every error leaves with a contract code, and
/// none leaves with internal detail. Errors the service raised carry their
/// code already. async-graphql's own errors (parsing, validation, coercing
/// variables and arguments) carry no Rust source: they are the client's
/// (`BAD_USER_INPUT`, message kept). An error with a source but no code
/// came from a raw `?` on some library error: it is logged and masked.
fn filter_error(error: &mut ServerError) {
    if error
        .extensions
        .as_ref()
        .is_some_and(|extensions| extensions.get("code").is_some())
    {
        return;
    }
    if error.source.is_none() {
        set_code(error, ErrorCode::BadUserInput);
    } else {
        tracing::error!(message = %error.message, path = ?error.path, "uncoded error masked");
        error.message = "internal error".into();
        set_code(error, ErrorCode::InternalServerError);
    }
}

fn set_code(error: &mut ServerError, code: ErrorCode) {
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code.as_str());
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(CACHE_CONTROL, http_cache::NO_STORE);
    response
}

fn bytes_response(media: ResponseMedia, status: StatusCode, bytes: Vec<u8>) -> Response {
    (status, [(CONTENT_TYPE, media.content_type())], bytes).into_response()
}

fn json_response(
    media: ResponseMedia,
    status: StatusCode,
    body: &impl serde::Serialize,
) -> Response {
    bytes_response(media, status, serde_json::to_vec(body).unwrap_or_default())
}

fn not_acceptable() -> Response {
    let body = json!({
        "errors": [{
            "message": "accept `application/graphql-response+json` or `application/json`",
            "extensions": { "code": ErrorCode::BadUserInput.as_str() }
        }]
    });
    json_response(ResponseMedia::Json, StatusCode::NOT_ACCEPTABLE, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_uncoded_error_from_a_raw_library_error_is_masked() {
        let leaked = std::io::Error::other("connection to 10.0.0.7:5432 refused");
        let mut error = async_graphql::Error::from(leaked)
            .into_server_error(async_graphql::Pos { line: 1, column: 2 });
        error.path = vec![async_graphql::PathSegment::Field("orders".into())];
        filter_error(&mut error);
        assert_eq!(error.message, "internal error");
        assert_eq!(
            error.extensions.unwrap().get("code"),
            Some(&async_graphql::Value::from("INTERNAL_SERVER_ERROR"))
        );
    }

    #[test]
    fn framework_errors_are_the_clients_and_keep_their_message() {
        let mut error = ServerError::new("Unknown field \"nope\"", None);
        filter_error(&mut error);
        assert_eq!(error.message, "Unknown field \"nope\"");
        assert_eq!(
            error.extensions.unwrap().get("code"),
            Some(&async_graphql::Value::from("BAD_USER_INPUT"))
        );
    }

    #[test]
    fn the_operation_name_picks_the_operation_over_get() {
        let document = |text: &str| Document::Text(text.into());
        let both = document("query A { __typename } mutation B { __typename }");
        assert_eq!(both.operation_type(Some("A")), Some(OperationType::Query));
        assert_eq!(
            both.operation_type(Some("B")),
            Some(OperationType::Mutation)
        );
        assert_eq!(
            document("mutation { x }").operation_type(None),
            Some(OperationType::Mutation)
        );
        assert_eq!(
            document("mutation Named { x }").operation_type(None),
            Some(OperationType::Mutation)
        );
    }
}
