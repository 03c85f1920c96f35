//! `GET` and `POST /graphql`, following GraphQL over HTTP: read top to
//! bottom, a request is negotiated (`Accept`), authenticated, parsed into
//! one operation or a batch (`params`), its document resolved (text,
//! registered document or persisted query: `persisted`), checked against
//! the limits (`guard`; GET runs queries only), charged to the rate limiter,
//! given its own context and loaders, executed until its deadline, passed
//! through the error filter, and answered with the status the media type
//! calls for and, for GET, HTTP caching headers (`http_cache`).
//!
//! async-graphql-axum's stock extractor is not used: it answers 400 for
//! every malformed request whatever the `Accept`, does not refuse
//! mutations over GET, and cannot omit `data` on request errors.

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use async_graphql::{CacheControl, ServerError, Variables};
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::header::{ALLOW, CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use serde_json::{Value, json};

use crate::app::AppState;
use crate::auth::Viewer;
use crate::db::Reads;
use crate::error::{AppError, ErrorCode};
use crate::graphql::json::{Json, raw_len};
use crate::graphql::plain;
use crate::graphql::{Loaders, RequestCtx};
use crate::guard::rate::Decision;
use crate::http::auth::{bearer_token, bearer_viewer};
use crate::http::compress;
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
            let caller = Caller::new(viewer, &headers);
            execute_single(&state, caller, media, Method::POST, &headers, *params).await
        }
        Ok(Batch::Many(batch)) => {
            execute_batch(
                &state,
                Caller::new(viewer, &headers),
                media,
                &headers,
                batch,
            )
            .await
        }
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
        Ok(params) => {
            let caller = Caller::new(viewer, &headers);
            execute_single(&state, caller, media, Method::GET, &headers, params).await
        }
        Err(refusal) => refusal.into_response(media),
    }
}

/// The error codes a response carries, for `/metrics` (read by
/// `http::observe`).
#[derive(Debug, Clone, Default)]
pub struct ErrorCodes(pub Vec<String>);

/// The GraphQL operation a response answers, for `/metrics`.
#[derive(Debug, Clone)]
pub struct OperationName(pub String);

/// What a batch's responses are labelled with.
const BATCH_OPERATION: &str = "(batch)";

impl Refusal {
    fn into_response(self, media: ResponseMedia) -> Response {
        let body = json!({
            "errors": [{ "message": self.message, "extensions": { "code": self.code.as_str() } }]
        });
        let mut response = json_response(media, self.status, &body);
        response
            .extensions_mut()
            .insert(ErrorCodes(vec![self.code.as_str().to_owned()]));
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

/// One operation, checked against the limits and ready to run.
struct Checked {
    request: async_graphql::Request,
    cost: usize,
    /// Its name, from the request or the document.
    operation: Option<String>,
    /// A query, whose reads may share one connection.
    is_query: bool,
    /// Its document merges fields (`graphql::plain::merges_fields`).
    merges_fields: bool,
}

impl Checked {
    /// The request, with its own context and loaders for `viewer`.
    fn into_request(self, state: &AppState, viewer: Viewer) -> async_graphql::Request {
        let database = &state.database;
        let reads = if self.is_query {
            Reads::shared(database)
        } else {
            Reads::per_read(database)
        };
        self.request.data(RequestCtx {
            viewer,
            database: database.clone(),
            cache: state.cache.clone(),
            loaders: Loaders::new(
                &reads,
                &state.cache,
                viewer.tenant,
                state.config.dataloader_delay,
            ),
            reads,
            business: state.metrics.business.clone(),
            plain_as_text: !self.merges_fields,
        })
    }
}

/// Parses (or takes the registered parse of) `document`, checks it against
/// the limits, and builds its request. `Err` holds the errors to answer
/// with, nothing having run.
async fn check(
    state: &AppState,
    method: &Method,
    document: Document,
    params: GraphQLParams,
) -> Result<Checked, CheckFailure> {
    let (parsed, validated) = match &document {
        Document::Text(text) => match state.guard.known(text) {
            Some(parsed) => (parsed, true),
            None => (state.guard.parse(text)?, false),
        },
        Document::Registered(prepared) => (prepared.document().clone(), true),
    };
    let operation_type = persisted::operation_type(&parsed, params.operation_name.as_deref());
    if *method == Method::GET
        && let Some(operation) = operation_type
        && operation != OperationType::Query
    {
        return Err(CheckFailure::Refused(Refusal {
            status: StatusCode::METHOD_NOT_ALLOWED,
            code: ErrorCode::BadUserInput,
            message: "GET runs queries only: send mutations with POST".into(),
            allow: Some("POST"),
        }));
    }
    let variables = params
        .variables
        .map(|variables| Variables::from_json(Value::Object(variables)))
        .unwrap_or_default();
    let cost = state
        .guard
        .cost(
            &parsed,
            &variables,
            params.operation_name.as_deref(),
            validated,
        )
        .await?;
    if !validated && let Document::Text(text) = &document {
        state.guard.remember(text, &parsed);
    }

    let operation = params
        .operation_name
        .clone()
        .or_else(|| single_operation_name(&parsed));
    let merges_fields = plain::merges_fields(&parsed);
    let mut request = async_graphql::Request::new(match &document {
        Document::Text(text) => text.as_ref(),
        Document::Registered(prepared) => prepared.body.as_ref(),
    })
    .variables(variables);
    request.set_parsed_query(parsed);
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if let Some(extensions) = params.extensions {
        for (key, value) in extensions {
            if let Ok(value) = async_graphql::Value::from_json(value) {
                request.extensions.insert(key, value);
            }
        }
    }
    Ok(Checked {
        request,
        cost,
        operation,
        is_query: operation_type == Some(OperationType::Query),
        merges_fields,
    })
}

/// The name of a document's only operation, if it has one.
fn single_operation_name(document: &ExecutableDocument) -> Option<String> {
    match &document.operations {
        DocumentOperations::Single(_) => None,
        DocumentOperations::Multiple(operations) if operations.len() == 1 => {
            operations.keys().next().map(ToString::to_string)
        }
        DocumentOperations::Multiple(_) => None,
    }
}

/// Why an operation does not run.
enum CheckFailure {
    /// Refused as HTTP (the wrong method).
    Refused(Refusal),
    /// GraphQL request errors: parsing, validation, limits.
    Errors(Vec<ServerError>),
}

impl From<Vec<ServerError>> for CheckFailure {
    fn from(errors: Vec<ServerError>) -> Self {
        Self::Errors(errors)
    }
}

impl CheckFailure {
    /// Writes the failure as one answer of a batch; its error codes.
    fn write(self, json: &mut Json) -> Vec<String> {
        match self {
            Self::Refused(refusal) => {
                json.serialized(&refusal_value(&refusal));
                vec![refusal.code.as_str().to_owned()]
            }
            Self::Errors(errors) => {
                let (body, outcome) = render(async_graphql::Response::from_errors(errors));
                body.write(json);
                outcome.codes
            }
        }
    }
}

fn refusal_value(refusal: &Refusal) -> Value {
    json!({ "errors": [{ "message": refusal.message, "extensions": { "code": refusal.code.as_str() } }] })
}

/// Who is asking, and how their request's cost is reported.
struct Caller<'a> {
    viewer: Viewer,
    token: &'a str,
    /// `Fulexo-Include-Cost` asks for `extensions.cost`.
    include_cost: bool,
}

impl<'a> Caller<'a> {
    fn new(viewer: Viewer, headers: &'a HeaderMap) -> Self {
        Self {
            viewer,
            token: bearer_token(headers).unwrap_or_default(),
            include_cost: headers
                .get(INCLUDE_COST_HEADER)
                .and_then(|value| value.to_str().ok())
                .is_some_and(|value| !matches!(value.trim(), "" | "0" | "false")),
        }
    }
}

/// The request header that asks for `extensions.cost`.
pub const INCLUDE_COST_HEADER: &str = "fulexo-include-cost";

/// Pays `cost` to the rate limiter: the units left, or the 429 to answer.
async fn pay(
    state: &AppState,
    caller: &Caller<'_>,
    media: ResponseMedia,
    cost: usize,
) -> Result<u64, Response> {
    match state
        .rate_limiter
        .take(&caller.viewer, caller.token, cost as u64)
        .await
    {
        Decision::Allowed { remaining } => {
            state.metrics.guard.cost.observe(cost as f64);
            Ok(remaining)
        }
        Decision::Limited { retry_after } => {
            state.metrics.guard.refused(ErrorCode::RateLimited.as_str());
            let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            let body = json!({
                "errors": [{
                    "message": format!(
                        "rate limit reached: this request costs {cost} and your budget refills in {seconds} s; retry after that, or spend less per request"
                    ),
                    "extensions": { "code": ErrorCode::RateLimited.as_str(), "cost": cost, "retryAfter": seconds }
                }]
            });
            let mut response = json_response(media, StatusCode::TOO_MANY_REQUESTS, &body);
            response
                .extensions_mut()
                .insert(ErrorCodes(vec![ErrorCode::RateLimited.as_str().to_owned()]));
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(seconds.max(1)));
            Err(no_store(response))
        }
    }
}

/// Adds `extensions.cost` to `response` when the caller asked for it.
fn report_cost(
    state: &AppState,
    caller: &Caller<'_>,
    response: &mut async_graphql::Response,
    cost: usize,
    remaining: u64,
) {
    if caller.include_cost {
        response
            .extensions
            .insert("cost".into(), cost_extension(state, cost, remaining));
    }
}

/// `extensions.cost`.
fn cost_extension(state: &AppState, cost: usize, remaining: u64) -> async_graphql::Value {
    let mut value = serde_json::Map::new();
    value.insert("estimated".into(), json!(cost));
    value.insert("limit".into(), json!(state.guard.limits().max_cost));
    if state.rate_limiter.enabled() {
        value.insert("remaining".into(), json!(remaining));
    }
    async_graphql::Value::from_json(Value::Object(value)).unwrap_or_default()
}

/// Runs `request` until the deadline; `None` when it was stopped there
/// (dropping it cancels its statements).
async fn run(
    state: &AppState,
    deadline: tokio::time::Instant,
    request: async_graphql::Request,
) -> Option<async_graphql::Response> {
    let response = tokio::time::timeout_at(deadline, state.schema.execute(request)).await;
    if response.is_err() {
        state.metrics.guard.refused("TIMEOUT");
        tracing::warn!(timeout = ?state.config.request_timeout, "request stopped at its deadline");
    }
    response.ok()
}

/// The answer to a request stopped at its deadline.
fn deadline_refusal(state: &AppState) -> Refusal {
    Refusal::new(
        StatusCode::GATEWAY_TIMEOUT,
        ErrorCode::InternalServerError,
        format!(
            "the request ran longer than {} and was stopped: ask for less (smaller pages, fewer nested lists) or retry later",
            humantime::format_duration(state.config.request_timeout)
        ),
    )
}

async fn execute_single(
    state: &AppState,
    caller: Caller<'_>,
    media: ResponseMedia,
    method: Method,
    headers: &HeaderMap,
    params: GraphQLParams,
) -> Response {
    let mut operation = params.operation_name.clone();
    let mut response = answer_single(
        state,
        caller,
        media,
        method,
        headers,
        params,
        &mut operation,
    )
    .await;
    if let Some(name) = operation {
        response.extensions_mut().insert(OperationName(name));
    }
    response
}

/// One operation's answer; `operation` learns its name from the document.
async fn answer_single(
    state: &AppState,
    caller: Caller<'_>,
    media: ResponseMedia,
    method: Method,
    headers: &HeaderMap,
    mut params: GraphQLParams,
    operation: &mut Option<String>,
) -> Response {
    let deadline = tokio::time::Instant::now() + state.config.request_timeout;
    let document_request = std::mem::take(&mut params.document);
    let document = match state
        .documents
        .resolve(caller.viewer.tenant, document_request)
        .await
    {
        Ok(document) => document,
        Err(refusal) => return no_store(document_refusal(refusal).into_response(media)),
    };
    let checked = match check(state, &method, document, params).await {
        Ok(checked) => checked,
        Err(CheckFailure::Refused(refusal)) => return refusal.into_response(media),
        Err(CheckFailure::Errors(errors)) => {
            return graphql_response(
                media,
                &method,
                headers,
                &caller.viewer,
                async_graphql::Response::from_errors(errors),
            );
        }
    };
    operation.clone_from(&checked.operation);
    let remaining = match pay(state, &caller, media, checked.cost).await {
        Ok(remaining) => remaining,
        Err(response) => return response,
    };
    let cost = checked.cost;
    let request = checked.into_request(state, caller.viewer);
    let Some(mut response) = run(state, deadline, request).await else {
        return no_store(deadline_refusal(state).into_response(media));
    };
    report_cost(state, &caller, &mut response, cost, remaining);
    graphql_response(media, &method, headers, &caller.viewer, response)
}

/// An executed (or refused) operation as HTTP: its status by media type,
/// and HTTP caching for a successful GET.
fn graphql_response(
    media: ResponseMedia,
    method: &Method,
    headers: &HeaderMap,
    viewer: &Viewer,
    response: async_graphql::Response,
) -> Response {
    let (body, outcome) = render(response);
    let status = if outcome.request_error && media == ResponseMedia::GraphQLResponseJson {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let bytes = body.into_bytes();
    if *method != Method::GET || outcome.has_errors {
        let mut response = no_store(answer_response(media, status, headers, bytes));
        response.extensions_mut().insert(ErrorCodes(outcome.codes));
        return response;
    }
    let etag = http_cache::etag(viewer, &bytes);
    let mut response = if http_cache::not_modified(headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        answer_response(media, status, headers, bytes)
    };
    http_cache::set_cacheable(response.headers_mut(), etag, &outcome.cache_control);
    response
}

async fn execute_batch(
    state: &AppState,
    caller: Caller<'_>,
    media: ResponseMedia,
    headers: &HeaderMap,
    batch: Vec<GraphQLParams>,
) -> Response {
    let deadline = tokio::time::Instant::now() + state.config.request_timeout;
    let limits = state.guard.limits();
    if batch.len() > limits.max_batch {
        return Refusal::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::QueryTooComplex,
            format!(
                "the batch holds {} operations; the limit is {}: send the rest in another request",
                batch.len(),
                limits.max_batch
            ),
        )
        .into_response(media);
    }
    // Everything is checked first: the batch's cost is the sum of its
    // operations', limited and paid as one request's.
    let mut checked = Vec::with_capacity(batch.len());
    for mut params in batch {
        let document_request = std::mem::take(&mut params.document);
        let outcome = match state
            .documents
            .resolve(caller.viewer.tenant, document_request)
            .await
        {
            Ok(document) => check(state, &Method::POST, document, params).await,
            Err(refusal) => Err(CheckFailure::Refused(document_refusal(refusal))),
        };
        checked.push(outcome);
    }
    let cost = checked
        .iter()
        .filter_map(|outcome| outcome.as_ref().ok())
        .map(|checked| checked.cost)
        .sum::<usize>();
    if let Err(refused) = state.guard.within_cost(cost, "the batch") {
        return Refusal::new(StatusCode::BAD_REQUEST, refused.code, refused.message)
            .into_response(media);
    }
    let remaining = match pay(state, &caller, media, cost).await {
        Ok(remaining) => remaining,
        Err(response) => return response,
    };
    // In order, one after another: a later operation sees an earlier one's
    // writes, as if the client had sent them one by one.
    let mut answers = Json::default();
    let mut codes = Vec::new();
    answers.open_list();
    for (index, outcome) in checked.into_iter().enumerate() {
        if index > 0 {
            answers.comma();
        }
        let answer_codes = match outcome {
            Ok(checked) => {
                let cost = checked.cost;
                let request = checked.into_request(state, caller.viewer);
                match run(state, deadline, request).await {
                    Some(mut response) => {
                        report_cost(state, &caller, &mut response, cost, remaining);
                        let (body, outcome) = render(response);
                        body.write(&mut answers);
                        outcome.codes
                    }
                    None => {
                        answers.serialized(&refusal_value(&deadline_refusal(state)));
                        vec![ErrorCode::InternalServerError.as_str().to_owned()]
                    }
                }
            }
            Err(failure) => failure.write(&mut answers),
        };
        codes.extend(answer_codes);
    }
    answers.close_list();
    let bytes = answers.into_bytes();
    let mut response = no_store(answer_response(media, StatusCode::OK, headers, bytes));
    response.extensions_mut().insert(ErrorCodes(codes));
    response
        .extensions_mut()
        .insert(OperationName(BATCH_OPERATION.to_owned()));
    response
}

/// A response body as the spec shapes it: no `data` entry at all for a
/// request error (nothing executed).
struct ResponseBody {
    data: Option<async_graphql::Value>,
    errors: Vec<ServerError>,
    extensions: std::collections::BTreeMap<String, async_graphql::Value>,
}

impl ResponseBody {
    /// Writes the body: `data` as it is (the plain objects in it are JSON
    /// already), errors and extensions as serde_json writes them; an
    /// absent or empty entry is left out.
    fn write(&self, json: &mut Json) {
        json.open_object();
        let mut first = true;
        let mut entry = |json: &mut Json, key: &str| {
            if !std::mem::take(&mut first) {
                json.comma();
            }
            json.key(key);
        };
        if let Some(data) = &self.data {
            entry(json, "data");
            json.value(data);
        }
        if !self.errors.is_empty() {
            entry(json, "errors");
            json.serialized(&self.errors);
        }
        if !self.extensions.is_empty() {
            entry(json, "extensions");
            json.serialized(&self.extensions);
        }
        json.close_object();
    }

    fn into_bytes(self) -> Vec<u8> {
        // Sized for the data's text: the plain objects' answers are most of
        // it, and a body grown from empty copies them again as it doubles.
        let data = self.data.as_ref().map_or(0, raw_len);
        let mut json = Json::with_capacity(data + 256);
        self.write(&mut json);
        json.into_bytes()
    }
}

/// What the handler needs to know about an executed response.
struct Outcome {
    /// Nothing executed (400 under `application/graphql-response+json`).
    request_error: bool,
    has_errors: bool,
    cache_control: CacheControl,
    /// The errors' codes, after the error filter.
    codes: Vec<String>,
}

/// The response after the error filter.
fn render(response: async_graphql::Response) -> (ResponseBody, Outcome) {
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|error| error.path.is_empty());
    let mut errors = response.errors;
    for error in &mut errors {
        filter_error(error);
    }
    let outcome = Outcome {
        request_error,
        has_errors: !errors.is_empty(),
        cache_control: response.cache_control,
        codes: errors.iter().filter_map(error_code).collect(),
    };
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

fn error_code(error: &ServerError) -> Option<String> {
    match error.extensions.as_ref()?.get("code")? {
        async_graphql::Value::String(code) => Some(code.clone()),
        _ => None,
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

/// An executed answer, compressed for the client (`request` its headers)
/// where `compress` does it.
fn answer_response(
    media: ResponseMedia,
    status: StatusCode,
    request: &HeaderMap,
    bytes: Vec<u8>,
) -> Response {
    let (bytes, encoding) = compress::answer(request, bytes);
    let mut response = bytes_response(media, status, bytes);
    for (name, value) in encoding.into_iter().flatten() {
        response.headers_mut().append(name, value);
    }
    response
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
        let operation = |text: &str, name: Option<&str>| {
            let document = async_graphql::parser::parse_query(text).unwrap();
            persisted::operation_type(&document, name)
        };
        let both = "query A { __typename } mutation B { __typename }";
        assert_eq!(operation(both, Some("A")), Some(OperationType::Query));
        assert_eq!(operation(both, Some("B")), Some(OperationType::Mutation));
        assert_eq!(operation(both, None), None);
        assert_eq!(
            operation("mutation { x }", None),
            Some(OperationType::Mutation)
        );
        assert_eq!(
            operation("mutation Named { x }", None),
            Some(OperationType::Mutation)
        );
    }
}
