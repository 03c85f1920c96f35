//! The async-graphql extension behind registered documents: a document
//! validated at registration skips validation when called (its parsed form
//! is handed over too, so parsing is skipped as well); and a document can
//! be validated without being run, to register it.

use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextValidation,
};
use async_graphql::{CacheControl, Response, ServerError, ValidationResult};

/// Marks a request whose document was validated when registered.
pub struct PreValidated {
    pub cache_control: CacheControl,
}

/// Marks a request to validate only; the outcome lands in the slot.
#[derive(Default, Clone)]
pub struct ValidateOnly(pub Arc<Mutex<Option<CacheControl>>>);

pub struct RegisteredDocuments;

impl ExtensionFactory for RegisteredDocuments {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RegisteredDocumentsExtension)
    }
}

struct RegisteredDocumentsExtension;

#[async_trait::async_trait]
impl Extension for RegisteredDocumentsExtension {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        if let Some(validated) = ctx.data_opt::<PreValidated>() {
            return Ok(ValidationResult {
                cache_control: validated.cache_control,
                complexity: 0,
                depth: 0,
            });
        }
        let result = next.run(ctx).await;
        if let (Some(slot), Ok(result)) = (ctx.data_opt::<ValidateOnly>(), &result) {
            *slot.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(result.cache_control);
        }
        result
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        if ctx.data_opt::<ValidateOnly>().is_some() {
            return Response::default();
        }
        next.run(ctx, operation_name).await
    }
}
