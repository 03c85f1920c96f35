//! Guardrails: what a request may ask for before anything runs.
//!
//! A free-form document is checked in the order that refuses an abusive
//! one most cheaply: its size in bytes, its tokens (counted by a lexer
//! before the parser builds anything), then, parsed, its [`shape`] (depth,
//! nesting, aliases, root fields, directives, fields with fragments
//! expanded), then async-graphql's validation, which also yields its
//! [`cost`] for these variables. Registered documents were validated when
//! registered, and [`known`] documents when first seen; only their cost,
//! which depends on the variables, is computed. A request within every
//! limit then pays its cost to the [`rate`] limiter.

pub mod cost;
pub mod known;
pub mod rate;
pub mod shape;

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Request, ServerError, Variables};

use crate::config::Limits;
use crate::error::ErrorCode;
use crate::graphql::AppSchema;
use crate::metrics::GuardMetrics;
use crate::persisted::normalize;
use cost::Measured;
use known::KnownDocuments;

/// A request refused by a limit, with the contract code and a message that
/// names the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub code: ErrorCode,
    pub message: String,
}

impl Refused {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn into_server_error(self) -> ServerError {
        let mut error = ServerError::new(self.message, None);
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", self.code.as_str());
        error
    }
}

impl From<Refused> for Vec<ServerError> {
    fn from(refused: Refused) -> Self {
        vec![refused.into_server_error()]
    }
}

/// Checks documents against the limits.
#[derive(Clone)]
pub struct Guard {
    limits: Limits,
    introspection: bool,
    /// Validates fully and measures: free-form documents.
    checker: AppSchema,
    /// Measures only: registered and known documents.
    fast_checker: AppSchema,
    known: KnownDocuments,
    metrics: GuardMetrics,
}

impl Guard {
    pub fn new(
        limits: Limits,
        introspection: bool,
        checker: AppSchema,
        fast_checker: AppSchema,
        metrics: GuardMetrics,
    ) -> Self {
        Self {
            limits,
            introspection,
            checker,
            fast_checker,
            known: KnownDocuments::default(),
            metrics,
        }
    }

    /// The parse of a free-form document that passed every check before.
    pub fn known(&self, text: &str) -> Option<ExecutableDocument> {
        self.known.get(text)
    }

    /// Remembers a free-form document that passed every check.
    pub fn remember(&self, text: &str, document: &ExecutableDocument) {
        self.known.insert(text, document);
    }

    /// Counts a refusal by its code, for `/metrics`.
    fn refuse(&self, refused: Refused) -> Refused {
        self.metrics.refused(refused.code.as_str());
        refused
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// A free-form document, parsed, if its size and shape are within the
    /// limits.
    pub fn parse(&self, text: &str) -> Result<ExecutableDocument, Vec<ServerError>> {
        if text.len() > self.limits.max_document_bytes {
            return Err(self.refuse(Refused::new(
                ErrorCode::QueryTooComplex,
                format!(
                    "the document is {} bytes; the limit is {}: register large documents and call them by id",
                    text.len(),
                    self.limits.max_document_bytes
                ),
            ))
            .into());
        }
        if text.contains('\0') {
            return Err(self
                .refuse(Refused::new(
                    ErrorCode::BadUserInput,
                    "the document contains a NUL character, which GraphQL does not allow",
                ))
                .into());
        }
        // Text the lexer cannot read is left to the parser, which says
        // where it fails.
        if let Some(tokens) = normalize::count_tokens(text)
            && tokens > self.limits.max_tokens
        {
            return Err(self
                .refuse(Refused::new(
                    ErrorCode::QueryTooComplex,
                    format!(
                        "the document has {tokens} tokens; the limit is {}",
                        self.limits.max_tokens
                    ),
                ))
                .into());
        }
        let document = async_graphql::parser::parse_query(text)
            .map_err(|error| vec![ServerError::from(error)])?;
        let shape =
            shape::measure(&document, &self.limits).map_err(|refused| self.refuse(refused))?;
        if shape.introspects && !self.introspection {
            return Err(self
                .refuse(Refused::new(
                    ErrorCode::BadUserInput,
                    "introspection is turned off on this service: the schema is published as `schema.graphql`",
                ))
                .into());
        }
        Ok(document)
    }

    /// The cost of running `document` with these variables, after
    /// validating it (fully unless it was `validated` before: registered or
    /// known); refused over the limit.
    pub async fn cost(
        &self,
        document: &ExecutableDocument,
        variables: &Variables,
        operation_name: Option<&str>,
        validated: bool,
    ) -> Result<usize, Vec<ServerError>> {
        let measured = Measured::default();
        let mut request = Request::new("").variables(variables.clone());
        if let Some(name) = operation_name {
            request = request.operation_name(name);
        }
        request.set_parsed_query(document.clone());
        let schema = if validated {
            &self.fast_checker
        } else {
            &self.checker
        };
        let response = schema.execute(request.data(measured.clone())).await;
        if !response.errors.is_empty() {
            return Err(response.errors);
        }
        let cost = measured.complexity().unwrap_or_default();
        self.within_cost(cost, "the query")?;
        Ok(cost)
    }

    /// Refuses a cost over the limit (one request's, or a batch's sum).
    pub fn within_cost(&self, cost: usize, what: &str) -> Result<(), Refused> {
        if cost > self.limits.max_cost {
            return Err(self.refuse(Refused::new(
                ErrorCode::QueryTooComplex,
                format!(
                    "{what} costs {cost}; the limit is {}: ask for smaller pages (`first`) or fewer nested lists",
                    self.limits.max_cost
                ),
            )));
        }
        Ok(())
    }
}
