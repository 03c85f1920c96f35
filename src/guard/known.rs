//! Free-form documents that passed every check before, by their text.
//!
//! A frontend sends the same few documents over and over. Lexing, parsing,
//! the shape walk and async-graphql's validation cost about 50 µs per
//! request (`examples/guard`), the same for the same text each time; a
//! known document skips them, as a registered one does, and only its cost,
//! which depends on the variables, is computed again.

use std::sync::Arc;

use async_graphql::parser::types::ExecutableDocument;

/// How many bytes of document text are remembered; a parsed document takes
/// a few times its text's size.
const CAPACITY_BYTES: u64 = 4 * 1024 * 1024;

#[derive(Clone)]
pub struct KnownDocuments(moka::sync::Cache<Arc<str>, Arc<ExecutableDocument>>);

impl Default for KnownDocuments {
    fn default() -> Self {
        Self(
            moka::sync::Cache::builder()
                .max_capacity(CAPACITY_BYTES)
                .weigher(|text: &Arc<str>, _| u32::try_from(text.len()).unwrap_or(u32::MAX))
                .build(),
        )
    }
}

impl KnownDocuments {
    /// The parse of `text`, if it passed every check before.
    pub fn get(&self, text: &str) -> Option<ExecutableDocument> {
        self.0.get(text).map(|document| (*document).clone())
    }

    /// Remembers `text`, which passed every check, and its parse.
    pub fn insert(&self, text: &str, document: &ExecutableDocument) {
        self.0.insert(Arc::from(text), Arc::new(document.clone()));
    }
}
