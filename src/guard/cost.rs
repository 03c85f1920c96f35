//! What a field costs, for async-graphql's complexity analysis: every
//! field costs 1 plus what it selects (async-graphql's default), and a list
//! multiplies what it selects by how many items it may return. The
//! functions here are named in the fields' `complexity` attributes, so a
//! field's cost is declared where the field is.
//!
//! async-graphql computes a document's complexity during validation, and
//! only an extension sees the figure; extensions on the schema that runs
//! requests would slow every field down (see the README), so the figure is
//! read on a schema of its own that validates and stops: [`CostProbe`].

use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextValidation,
};
use async_graphql::parser::types::{Field, VariableDefinition};
use async_graphql::{Positioned, Response, ServerError, ValidationResult, VisitorContext};

/// Rows a connection returns without `first`.
pub const DEFAULT_PAGE: usize = 20;
/// The most rows of one connection page.
pub const MAX_PAGE: usize = 100;
/// Items an order is assumed to have (marketplace orders rarely have more;
/// there is no hard maximum to multiply by).
pub const ASSUMED_ITEMS: usize = 10;
/// Shipments, and invoices, an order is assumed to have.
pub const ASSUMED_PARCELS: usize = 5;

/// The variables a field's arguments may name.
type Definitions = [Positioned<VariableDefinition>];

/// A connection page: up to `first` rows (default [`DEFAULT_PAGE`]).
pub fn page(
    ctx: &VisitorContext<'_>,
    definitions: &Definitions,
    field: &Field,
    children: usize,
) -> usize {
    let rows = int_argument(ctx, definitions, field, "first").map_or(DEFAULT_PAGE, |first| {
        usize::try_from(first.max(0)).unwrap_or(0).min(MAX_PAGE)
    });
    list(rows, children)
}

/// A list whose length the argument `name` sets, at most `max` (and `max`
/// when the argument is not known yet).
pub fn sized(
    ctx: &VisitorContext<'_>,
    definitions: &Definitions,
    field: &Field,
    name: &str,
    max: usize,
    children: usize,
) -> usize {
    let count = int_argument(ctx, definitions, field, name).map_or(max, |count| {
        usize::try_from(count.max(0)).unwrap_or(0).min(max)
    });
    list(count, children)
}

/// A list of up to `items` entries.
pub fn list(items: usize, children: usize) -> usize {
    1 + items.max(1) * children
}

/// An integer argument's value, from the document or the variables.
/// async-graphql's generated argument parsing fails on an omitted optional
/// variable (`first: $first` without `$first`), which GraphQL treats as an
/// absent argument: here that, and any value that does not parse (the
/// field refuses it when it runs), is `None`.
fn int_argument(
    ctx: &VisitorContext<'_>,
    definitions: &Definitions,
    field: &Field,
    name: &str,
) -> Option<i32> {
    ctx.param_value::<Option<i32>>(definitions, field, name, Some(|| None))
        .ok()
        .flatten()
}

/// Where [`CostProbe`] leaves the complexity of a validated request.
#[derive(Clone, Default)]
pub struct Measured(Arc<Mutex<Option<usize>>>);

impl Measured {
    pub fn complexity(&self) -> Option<usize> {
        *self.0.lock().unwrap_or_else(|poison| poison.into_inner())
    }
}

/// Validates a request (fully or fast, as its schema says), records its
/// complexity in the request's [`Measured`], and runs nothing.
pub struct CostProbe;

impl ExtensionFactory for CostProbe {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(CostProbeExtension)
    }
}

struct CostProbeExtension;

#[async_trait::async_trait]
impl Extension for CostProbeExtension {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        if let Some(measured) = ctx.data_opt::<Measured>() {
            *measured
                .0
                .lock()
                .unwrap_or_else(|poison| poison.into_inner()) = Some(result.complexity);
        }
        Ok(result)
    }

    async fn execute(
        &self,
        _ctx: &ExtensionContext<'_>,
        _operation_name: Option<&str>,
        _next: NextExecute<'_>,
    ) -> Response {
        Response::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_costs_its_entries_and_at_least_one() {
        assert_eq!(list(100, 10), 1001);
        assert_eq!(list(0, 10), 11);
    }
}
