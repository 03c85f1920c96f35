//! Resolving objects whose data is already in memory without a future per
//! field, straight to JSON text.
//!
//! async-graphql resolves every field of every object as a boxed future of
//! its own, polled through a `FuturesUnordered`, builds a tree of values
//! from their answers, and the tree is then serialized. A page of 50 orders
//! with their items and shipments is about 1,500 such futures; under `perf`
//! that machinery was a third of the service's CPU for `OrdersPage`, and
//! the tree and its serialization a fifth of what remained. A field that
//! reads a column of a row, or a relation loaded with the row, needs none of
//! it.
//!
//! [`Plain<T>`] resolves an object whose selection [`PlainObject`] answers
//! whole (every field a column or a relation loaded with it, nested objects
//! likewise) by writing its JSON text at once (`graphql::json`), in
//! selection order. Any other selection (a field that still has to load, a
//! fragment, a directive, a response key given twice) goes to
//! async-graphql's own resolution of the object, through its `#[Object]`
//! impl, which stays the schema's definition of every field; the objects
//! below it try the plain path again. The executing schema has no
//! extensions, whose per-field hooks this path would skip
//! (`graphql::build_executing_schema`).

use std::borrow::Cow;

use async_graphql::parser::types::{ExecutableDocument, Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::{ContainerType, resolve_container};
use async_graphql::{Context, ContextSelectionSet, OutputType, Positioned, ServerResult, Value};

use crate::graphql::context::RequestCtx;
use crate::graphql::json::Json;

/// An object some of whose fields can be answered at once.
pub trait PlainObject: ContainerType + Send + Sync {
    /// Writes the value of `field` (a context on the field, its selection
    /// set and arguments) to `json`, if it can be given now without error:
    /// a column of the row, or a relation loaded with it. `false` leaves the
    /// object to its `#[Object]` resolver; what was written is discarded.
    fn plain_field(&self, field: &Context<'_>, json: &mut Json) -> bool;
}

/// `T`, resolved through [`PlainObject`] where it can be. It is `T` in the
/// schema: same name, same fields.
#[derive(Clone)]
pub struct Plain<T>(pub T);

impl<T: PlainObject> OutputType for Plain<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.0.introspection_type_name()
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        // Only a request whose document names no response key twice: the
        // selection sets below need no check of their own for it.
        let as_text = ctx
            .data_opt::<RequestCtx>()
            .is_some_and(|request| request.plain_as_text);
        let mut json = Json::default();
        if as_text && now(ctx, &self.0, &mut json) {
            Ok(json.into_value())
        } else {
            resolve_container(ctx, &self.0).await
        }
    }
}

/// Whether some selection set of `document` names a response key twice
/// (`items { sku } items { name }`, or through fragments). async-graphql
/// answers those fields one by one and merges their values, which an
/// answer already written as text cannot take part in; such a document is
/// answered without the plain path. A key under two type conditions counts
/// too, though only one may apply: the check is on the document, once.
pub fn merges_fields(document: &ExecutableDocument) -> bool {
    let operations = document
        .operations
        .iter()
        .map(|(_, operation)| &operation.node.selection_set.node);
    let fragments = document
        .fragments
        .values()
        .map(|fragment| &fragment.node.selection_set.node);
    operations
        .chain(fragments)
        .any(|set| set_merges_fields(document, set))
}

fn set_merges_fields(document: &ExecutableDocument, set: &SelectionSet) -> bool {
    if repeats_a_key(document, set, &mut Vec::new()) {
        return true;
    }
    set.items.iter().any(|selection| match &selection.node {
        Selection::Field(field) => set_merges_fields(document, &field.node.selection_set.node),
        Selection::InlineFragment(fragment) => {
            set_merges_fields(document, &fragment.node.selection_set.node)
        }
        // Walked as a definition of the document.
        Selection::FragmentSpread(_) => false,
    })
}

/// Whether the fields `set` collects (its own, and its fragments') repeat a
/// response key, given the `keys` collected before.
fn repeats_a_key<'a>(
    document: &'a ExecutableDocument,
    set: &'a SelectionSet,
    keys: &mut Vec<&'a str>,
) -> bool {
    set.items.iter().any(|selection| match &selection.node {
        Selection::Field(field) => {
            let key = field.node.response_key().node.as_str();
            let repeated = keys.contains(&key);
            keys.push(key);
            repeated
        }
        Selection::InlineFragment(fragment) => {
            repeats_a_key(document, &fragment.node.selection_set.node, keys)
        }
        Selection::FragmentSpread(spread) => {
            match document.fragments.get(&spread.node.fragment_name.node) {
                Some(fragment) => repeats_a_key(document, &fragment.node.selection_set.node, keys),
                // Validation refuses an unknown fragment; assume the worst.
                None => true,
            }
        }
    })
}

/// A selection set's fields with their response keys, if the plain path can
/// answer it: fields only (fragments are async-graphql's to expand) and no
/// directives (`@skip` and `@include` are gone by now; others are not
/// ours). No key repeats: the document was checked for that
/// ([`merges_fields`]) before the plain path was allowed.
fn plain_fields<'a>(
    ctx: &ContextSelectionSet<'a>,
) -> Option<Vec<(&'a str, &'a Positioned<Field>)>> {
    let mut fields: Vec<(&str, &Positioned<Field>)> = Vec::with_capacity(ctx.item.node.items.len());
    for selection in &ctx.item.node.items {
        match &selection.node {
            Selection::Field(field) if field.node.directives.is_empty() => {
                fields.push((field.node.response_key().node.as_str(), field));
            }
            _ => return None,
        }
    }
    debug_assert!(
        fields
            .iter()
            .enumerate()
            .all(|(index, (key, _))| fields[..index].iter().all(|(seen, _)| seen != key)),
        "a response key twice in a document that merges no fields"
    );
    Some(fields)
}

/// Writes `object` under `ctx`'s selection, given its `fields`; `false` at
/// the first field that cannot be answered at once.
fn write_object<T: PlainObject>(
    ctx: &ContextSelectionSet<'_>,
    fields: &[(&str, &Positioned<Field>)],
    object: &T,
    json: &mut Json,
) -> bool {
    // What async-graphql answers for an object whose every field was
    // skipped.
    if fields.is_empty() {
        return json.null();
    }
    json.open_object();
    for (index, (key, field)) in fields.iter().enumerate() {
        if index > 0 {
            json.comma();
        }
        json.key(key);
        let written = if field.node.name.node == "__typename" {
            json.string(&object.introspection_type_name())
        } else {
            object.plain_field(&ctx.with_field(field), json)
        };
        if !written {
            return false;
        }
    }
    json.close_object();
    true
}

/// Writes `object` under `ctx`'s selection if all of it can be answered at
/// once; otherwise writes nothing and returns `false`.
pub fn now<T: PlainObject>(ctx: &ContextSelectionSet<'_>, object: &T, json: &mut Json) -> bool {
    let Some(fields) = plain_fields(ctx) else {
        return false;
    };
    let mark = json.len();
    let written = write_object(ctx, &fields, object, json);
    if !written {
        json.truncate(mark);
    }
    written
}

/// Writes the value of an object field (`field` a context on it) holding
/// `object`, if all of it can be answered at once.
pub fn object<T: PlainObject>(field: &Context<'_>, object: &T, json: &mut Json) -> bool {
    now(
        &field.with_selection_set(&field.item.node.selection_set),
        object,
        json,
    )
}

/// Writes the value of a list field (`field` a context on it) holding
/// `objects`, if all of them can be answered at once (`None`: the list was
/// not loaded, and cannot be).
pub fn list<'a, T: PlainObject + 'a>(
    field: &Context<'_>,
    objects: Option<impl IntoIterator<Item = &'a T>>,
    json: &mut Json,
) -> bool {
    let Some(objects) = objects else {
        return false;
    };
    let ctx = field.with_selection_set(&field.item.node.selection_set);
    // One look at the selection for the whole list.
    let Some(fields) = plain_fields(&ctx) else {
        return false;
    };
    let mark = json.len();
    json.open_list();
    let objects = objects.into_iter();
    let count = objects.size_hint().0;
    for (index, object) in objects.enumerate() {
        if index > 0 {
            json.comma();
        }
        if !write_object(&ctx.with_index(index), &fields, object, json) {
            json.truncate(mark);
            return false;
        }
        if index == 0 {
            // The rest are likely of the first one's size: room for them
            // at once, instead of a page's text copied as it doubles.
            json.reserve((json.len() - mark) * (count.saturating_sub(1)));
        }
    }
    json.close_list();
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merges(text: &str) -> bool {
        merges_fields(&async_graphql::parser::parse_query(text).unwrap())
    }

    #[test]
    fn documents_that_name_a_response_key_twice_merge_fields() {
        assert!(!merges(
            "{ orders { edges { node { id items { sku } } } } }"
        ));
        assert!(!merges("{ a: order(id: 1) { id } b: order(id: 2) { id } }"));
        assert!(merges(
            "{ orders { edges { node { items { sku } items { name } } } } }"
        ));
        assert!(merges("{ order(id: 1) { id id } }"));
        assert!(merges(
            "{ order(id: 1) { id ...F } } fragment F on Order { id }"
        ));
        assert!(merges(
            "{ order(id: 1) { ... on Order { status } ... on Order { status } } }"
        ));
        assert!(merges(
            "query { order(id: 1) { ...F } } fragment F on Order { items { sku } items { id } }"
        ));
        assert!(!merges(
            "{ order(id: 1) { ...F } } fragment F on Order { id items { sku } }"
        ));
    }
}
