//! A GraphQL request's parameters, from a POST body or a GET query string:
//! `query`, `operationName`, `variables`, `extensions`, and the persisted
//! document forms (`documentId`; Relay's `doc_id` and `id`; Apollo's
//! `extensions.persistedQuery`). Parameters of the wrong type are refused
//! here, before anything runs.

use axum::body::Bytes;
use http::StatusCode;
use serde_json::{Map, Value};

use crate::error::ErrorCode;
use crate::persisted::DocumentRequest;

/// One operation's parameters, as sent.
#[derive(Debug)]
pub struct GraphQLParams {
    pub document: DocumentRequest,
    pub operation_name: Option<String>,
    pub variables: Option<Map<String, Value>>,
    pub extensions: Option<Map<String, Value>>,
}

/// A request refused before execution.
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    pub allow: Option<&'static str>,
}

impl Refusal {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            allow: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::BadUserInput, message)
    }
}

/// A POST body: one operation, or a batch.
pub enum Batch {
    Single(Box<GraphQLParams>),
    Many(Vec<GraphQLParams>),
}

pub fn parse_post_body(body: &Bytes) -> Result<Batch, Refusal> {
    let value: Value = serde_json::from_slice(body).map_err(|error| {
        Refusal::bad_request(format!("the request body is not valid JSON: {error}"))
    })?;
    match value {
        Value::Object(object) => Ok(Batch::Single(Box::new(params_from_object(object)?))),
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

pub fn parse_get_query(query: &str) -> Result<GraphQLParams, Refusal> {
    let mut object = Map::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        let value = match key.as_ref() {
            "query" | "operationName" | "documentId" | "doc_id" | "id" => {
                Value::String(value.into_owned())
            }
            "variables" | "extensions" => serde_json::from_str(&value)
                .map_err(|_| Refusal::bad_request(format!("`{key}` must be URL-encoded JSON")))?,
            _ => continue,
        };
        object.insert(key.into_owned(), value);
    }
    params_from_object(object)
}

fn params_from_object(mut object: Map<String, Value>) -> Result<GraphQLParams, Refusal> {
    let query = optional_string(object.remove("query"), "query")?;
    let operation_name = optional_string(object.remove("operationName"), "operationName")?;
    // The GraphQL-over-HTTP form first, then Relay's two spellings.
    let document_id = match optional_string(object.remove("documentId"), "documentId")? {
        Some(id) => Some(id),
        None => match optional_string(object.remove("doc_id"), "doc_id")? {
            Some(id) => Some(id),
            None => optional_string(object.remove("id"), "id")?,
        },
    };
    let extensions = optional_map(object.remove("extensions"), "extensions")?;
    let apq = match extensions
        .as_ref()
        .and_then(|extensions| extensions.get("persistedQuery"))
    {
        None => None,
        Some(Value::Object(persisted)) => {
            let version = persisted
                .get("version")
                .and_then(Value::as_i64)
                .ok_or_else(|| {
                    Refusal::bad_request("`extensions.persistedQuery.version` must be a number")
                })?;
            let hash = persisted
                .get("sha256Hash")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    Refusal::bad_request("`extensions.persistedQuery.sha256Hash` must be a string")
                })?;
            Some((version, hash.to_owned()))
        }
        Some(_) => {
            return Err(Refusal::bad_request(
                "`extensions.persistedQuery` must be an object",
            ));
        }
    };
    if query.is_none() && document_id.is_none() && apq.is_none() {
        return Err(Refusal::bad_request(
            "the request has no `query` (nor a `documentId` or persisted query hash)",
        ));
    }
    Ok(GraphQLParams {
        document: DocumentRequest {
            query,
            document_id,
            apq,
        },
        operation_name,
        variables: without_nul(optional_map(object.remove("variables"), "variables")?)?,
        extensions,
    })
}

/// PostgreSQL's text cannot hold NUL, nor can GraphQL's source text: a
/// variable carrying one is refused here rather than failing deep inside a
/// statement.
fn without_nul(
    variables: Option<Map<String, Value>>,
) -> Result<Option<Map<String, Value>>, Refusal> {
    fn holds_nul(value: &Value) -> bool {
        match value {
            Value::String(text) => text.contains('\0'),
            Value::Array(items) => items.iter().any(holds_nul),
            Value::Object(map) => map
                .iter()
                .any(|(key, value)| key.contains('\0') || holds_nul(value)),
            _ => false,
        }
    }
    if let Some(map) = &variables
        && map
            .iter()
            .any(|(key, value)| key.contains('\0') || holds_nul(value))
    {
        return Err(Refusal::bad_request(
            "a variable holds a NUL character (\\u0000), which no field accepts: remove it",
        ));
    }
    Ok(variables)
}

fn optional_string(value: Option<Value>, name: &str) -> Result<Option<String>, Refusal> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(Refusal::bad_request(format!("`{name}` must be a string"))),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_of_the_wrong_type_are_refused() {
        for body in [
            r#"{"query": 1}"#,
            r#"{"query": "{a}", "variables": "x"}"#,
            r#"{"query": "{a}", "operationName": 3}"#,
            r#"{"documentId": 3}"#,
            r#"{"extensions": {"persistedQuery": {"version": 1}}}"#,
            r#"{"extensions": {"persistedQuery": "abc"}}"#,
            r#"{}"#,
            r#"[]"#,
            r#""text""#,
            r#"{"query": "#,
            r#"{"query": "{a}", "variables": {"q": "a\u0000b"}}"#,
            r#"{"query": "{a}", "variables": {"f": {"list": ["ok", "\u0000"]}}}"#,
        ] {
            assert!(parse_post_body(&Bytes::from(body)).is_err(), "{body}");
        }
        assert!(parse_post_body(&Bytes::from(r#"[{"query": "{a}"}, {"query": "{b}"}]"#)).is_ok());
    }

    #[test]
    fn every_persisted_form_is_read() {
        let params = |body: &str| match parse_post_body(&Bytes::from(body.to_owned())) {
            Ok(Batch::Single(params)) => params.document.clone(),
            _ => panic!("{body}"),
        };
        assert_eq!(
            params(r#"{"documentId": "sha256:ab"}"#)
                .document_id
                .as_deref(),
            Some("sha256:ab")
        );
        assert_eq!(
            params(r#"{"doc_id": "r1"}"#).document_id.as_deref(),
            Some("r1")
        );
        assert_eq!(params(r#"{"id": "r2"}"#).document_id.as_deref(), Some("r2"));
        let apq =
            params(r#"{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "ff"}}}"#);
        assert_eq!(apq.apq, Some((1, "ff".to_owned())));
        assert_eq!(apq.query, None);
    }

    #[test]
    fn get_variables_must_be_json() {
        assert!(parse_get_query("query=%7Ba%7D&variables=%7B%22x%22%3A1%7D").is_ok());
        assert!(parse_get_query("query=%7Ba%7D&variables=nope").is_err());
        assert!(parse_get_query("documentId=sha256%3Aab&variables=%7B%7D").is_ok());
    }
}
