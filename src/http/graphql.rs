//! `GET` and `POST /graphql`, following GraphQL over HTTP: read top to
//! bottom, a request is negotiated (`Accept`), authenticated, parsed into
//! one operation or a batch, checked (GET runs queries only), given its own
//! context and loaders, executed, passed through the error filter, and
//! answered with the status the media type calls for.
//!
//! async-graphql-axum's stock extractor is not used: it answers 400 for
//! every malformed request whatever the `Accept`, does not refuse
//! mutations over GET, and cannot omit `data` on request errors.

use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{ServerError, Variables};
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::header::{ALLOW, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::{Map, Value, json};

use crate::app::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, ErrorCode};
use crate::graphql::{Loaders, RequestCtx};
use crate::http::auth::bearer_viewer;
use crate::http::media::{self, ResponseMedia};

/// One operation's parameters, as sent.
struct GraphQLParams {
    query: String,
    operation_name: Option<String>,
    variables: Option<Map<String, Value>>,
    extensions: Option<Map<String, Value>>,
}

/// A refusal before execution, in the response's media type.
struct Refusal {
    status: StatusCode,
    code: ErrorCode,
    message: String,
    allow: Option<&'static str>,
}

impl Refusal {
    fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            allow: None,
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::BadUserInput, message)
    }

    fn from_app(error: &AppError) -> Self {
        Self::new(error.status(), error.code(), error.to_string())
    }

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

pub async fn post(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let Some(media) = ResponseMedia::negotiate(&headers) else {
        return not_acceptable();
    };
    let viewer = match bearer_viewer(&state, &headers) {
        Ok(viewer) => viewer,
        Err(error) => return Refusal::from_app(&error).into_response(media),
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
    match parse_post_body(&body) {
        Ok(Batch::Single(params)) => execute_single(&state, viewer, media, params).await,
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
        Err(error) => return Refusal::from_app(&error).into_response(media),
    };
    let params = match parse_get_query(query.as_deref().unwrap_or("")) {
        Ok(params) => params,
        Err(refusal) => return refusal.into_response(media),
    };
    if let Some(operation) = selected_operation_type(&params)
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
    execute_single(&state, viewer, media, params).await
}

enum Batch {
    Single(GraphQLParams),
    Many(Vec<GraphQLParams>),
}

fn parse_post_body(body: &Bytes) -> Result<Batch, Refusal> {
    let value: Value = serde_json::from_slice(body).map_err(|error| {
        Refusal::bad_request(format!("the request body is not valid JSON: {error}"))
    })?;
    match value {
        Value::Object(object) => Ok(Batch::Single(params_from_object(object)?)),
        Value::Array(items) if items.is_empty() => {
            Err(Refusal::bad_request("an empty batch has nothing to run"))
        }
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::Object(object) => params_from_object(object),
                _ => Err(Refusal::bad_request(
                    "each operation of a batch must be a JSON object",
                )),
            })
            .collect::<Result<_, _>>()
            .map(Batch::Many),
        _ => Err(Refusal::bad_request(
            "the request body must be a JSON object, or an array of them for a batch",
        )),
    }
}

fn params_from_object(mut object: Map<String, Value>) -> Result<GraphQLParams, Refusal> {
    let query = match object.remove("query") {
        Some(Value::String(query)) => query,
        None | Some(Value::Null) => {
            return Err(Refusal::bad_request("the request has no `query`"));
        }
        Some(_) => return Err(Refusal::bad_request("`query` must be a string")),
    };
    let operation_name = match object.remove("operationName") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => Some(name),
        Some(_) => return Err(Refusal::bad_request("`operationName` must be a string")),
    };
    Ok(GraphQLParams {
        query,
        operation_name,
        variables: optional_map(object.remove("variables"), "variables")?,
        extensions: optional_map(object.remove("extensions"), "extensions")?,
    })
}

fn optional_map(value: Option<Value>, name: &str) -> Result<Option<Map<String, Value>>, Refusal> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(_) => Err(Refusal::bad_request(format!(
            "`{name}` must be a JSON object"
        ))),
    }
}

fn parse_get_query(query: &str) -> Result<GraphQLParams, Refusal> {
    let mut object = Map::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        let value = match key.as_ref() {
            "query" | "operationName" => Value::String(value.into_owned()),
            "variables" | "extensions" => serde_json::from_str(&value)
                .map_err(|_| Refusal::bad_request(format!("`{key}` must be URL-encoded JSON")))?,
            _ => continue,
        };
        object.insert(key.into_owned(), value);
    }
    params_from_object(object)
}

/// The type of the operation a request would run, when its document parses
/// and names one (otherwise execution reports the problem).
fn selected_operation_type(params: &GraphQLParams) -> Option<OperationType> {
    let document = async_graphql::parser::parse_query(&params.query).ok()?;
    match (&document.operations, &params.operation_name) {
        (DocumentOperations::Single(operation), _) => Some(operation.node.ty),
        (DocumentOperations::Multiple(operations), Some(name)) => operations
            .iter()
            .find(|(operation_name, _)| operation_name.as_str() == name)
            .map(|(_, operation)| operation.node.ty),
        // A single named operation needs no name to be selected.
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => operations
            .values()
            .next()
            .map(|operation| operation.node.ty),
        (DocumentOperations::Multiple(_), None) => None,
    }
}

fn to_request(params: GraphQLParams, context: RequestCtx) -> async_graphql::Request {
    let mut request = async_graphql::Request::new(params.query);
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
    params: GraphQLParams,
) -> Response {
    let request = to_request(params, request_context(state, viewer));
    let (body, request_error) = render(state.schema.execute(request).await);
    let status = if request_error && media == ResponseMedia::GraphQLResponseJson {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    json_response(media, status, &body)
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
    for params in batch {
        let request = to_request(params, request_context(state, viewer));
        responses.push(render(state.schema.execute(request).await).0);
    }
    json_response(media, StatusCode::OK, &responses)
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

/// The response after the error filter, and whether it is a request error
/// (400 under `application/graphql-response+json`).
fn render(response: async_graphql::Response) -> (ResponseBody, bool) {
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|error| error.path.is_empty());
    let mut errors = response.errors;
    for error in &mut errors {
        filter_error(error);
    }
    let body = ResponseBody {
        data: (!request_error).then_some(response.data),
        errors,
        extensions: response.extensions,
    };
    (body, request_error)
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

fn json_response(
    media: ResponseMedia,
    status: StatusCode,
    body: &impl serde::Serialize,
) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    (status, [(CONTENT_TYPE, media.content_type())], bytes).into_response()
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

    fn params(query: &str, operation_name: Option<&str>) -> GraphQLParams {
        GraphQLParams {
            query: query.into(),
            operation_name: operation_name.map(Into::into),
            variables: None,
            extensions: None,
        }
    }

    #[test]
    fn the_operation_name_picks_the_operation_over_get() {
        let document = "query A { __typename } mutation B { __typename }";
        assert_eq!(
            selected_operation_type(&params(document, Some("A"))),
            Some(OperationType::Query)
        );
        assert_eq!(
            selected_operation_type(&params(document, Some("B"))),
            Some(OperationType::Mutation)
        );
        assert_eq!(
            selected_operation_type(&params("mutation { x }", None)),
            Some(OperationType::Mutation)
        );
    }

    #[test]
    fn parameters_of_the_wrong_type_are_refused() {
        for body in [
            r#"{"query": 1}"#,
            r#"{"query": "{a}", "variables": "x"}"#,
            r#"{"query": "{a}", "operationName": 3}"#,
            r#"{}"#,
            r#"[]"#,
            r#""text""#,
            r#"{"query": "#,
        ] {
            assert!(parse_post_body(&Bytes::from(body)).is_err(), "{body}");
        }
        assert!(parse_post_body(&Bytes::from(r#"[{"query": "{a}"}, {"query": "{b}"}]"#)).is_ok());
    }

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
    fn get_variables_must_be_json() {
        assert!(parse_get_query("query=%7Ba%7D&variables=%7B%22x%22%3A1%7D").is_ok());
        assert!(parse_get_query("query=%7Ba%7D&variables=nope").is_err());
    }
}
