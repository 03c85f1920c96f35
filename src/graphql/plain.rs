//! Resolving objects whose data is already in memory without a future per
//! field.
//!
//! async-graphql resolves every field of every object as a boxed future of
//! its own, polled through a `FuturesUnordered`, and builds the object from
//! their answers. A page of 50 orders with their items and shipments is
//! about 1,500 such futures; under `perf` that machinery (boxing, copying
//! futures into their boxes, the unordered set's task nodes and wakers) was
//! a third of the service's CPU for `OrdersPage`. A field that reads a
//! column of a row, or a relation loaded with the row, needs none of it.
//!
//! [`Plain<T>`] resolves an object as async-graphql would, field by field in
//! selection order, but gives each field [`PlainObject::plain_field`] first:
//! a field answered there costs a match and a value; only the others (a
//! relation still to load, a field with arguments) go through the object's
//! own `#[Object]` resolver, which stays the schema's definition of every
//! field and is the only path for a selection with fragments or
//! directives. The executing schema has no extensions, whose per-field hooks
//! this path would skip (`graphql::build_executing_schema`).

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use async_graphql::indexmap::IndexMap;
use async_graphql::indexmap::map::Entry;
use async_graphql::parser::types::{Field, Selection};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::{ContainerType, resolve_container};
use async_graphql::{
    Context, ContextSelectionSet, Name, OutputType, Positioned, ServerResult, Value,
};

/// An object some of whose fields can be answered at once.
pub trait PlainObject: ContainerType + Send + Sync {
    /// The value of `field` (a context on the field, its selection set and
    /// arguments), if it can be given now without error: a column of the
    /// row, or a relation loaded with it. `None` leaves the field to the
    /// object's `#[Object]` resolver.
    fn plain_field(&self, field: &Context<'_>) -> Option<Value>;
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
        resolve(ctx, &self.0).await
    }
}

/// A field left to its object's `#[Object]` resolver, by its index in the
/// selection.
type PendingField<'a> =
    Pin<Box<dyn Future<Output = (usize, ServerResult<Option<Value>>)> + Send + 'a>>;

/// The fields of a selection that names fields only, without directives;
/// `None` for anything else (fragments are async-graphql's to expand).
fn plain_selection<'a>(ctx: &ContextSelectionSet<'a>) -> Option<Vec<&'a Positioned<Field>>> {
    ctx.item
        .node
        .items
        .iter()
        .map(|selection| match &selection.node {
            Selection::Field(field) if field.node.directives.is_empty() => Some(field),
            _ => None,
        })
        .collect()
}

/// One field's answer at once: `__typename`, or the object's own.
fn plain_value<T: PlainObject>(
    ctx: &ContextSelectionSet<'_>,
    object: &T,
    field: &Positioned<Field>,
) -> Option<Value> {
    if field.node.name.node == "__typename" {
        return Some(Value::String(object.introspection_type_name().into_owned()));
    }
    object.plain_field(&ctx.with_field(field))
}

/// `object` under `ctx`'s selection, as async-graphql's `resolve_container`
/// answers it: fields by response key, an errored field left out (its error
/// recorded), and the same key selected twice merged.
pub async fn resolve<T: PlainObject>(
    ctx: &ContextSelectionSet<'_>,
    object: &T,
) -> ServerResult<Value> {
    let Some(fields) = plain_selection(ctx) else {
        return resolve_container(ctx, object).await;
    };
    let mut values: Vec<Option<Value>> = Vec::with_capacity(fields.len());
    let mut pending = Vec::new();
    for (index, field) in fields.iter().enumerate() {
        let value = plain_value(ctx, object, field);
        if value.is_none() {
            let ctx = ctx.clone();
            // Boxed, as async-graphql boxes every field: a field's future
            // holds its object's resolution, which may hold this type's
            // again (an order's shipments' order).
            let answer: PendingField<'_> =
                Box::pin(
                    async move { (index, object.resolve_field(&ctx.with_field(field)).await) },
                );
            pending.push(answer);
        }
        values.push(value);
    }
    for (index, answer) in futures_util::future::join_all(pending).await {
        match answer {
            Ok(value) => values[index] = Some(value.unwrap_or_default()),
            Err(error) => ctx.add_error(error),
        }
    }
    let answered: Vec<(Name, Value)> = fields
        .iter()
        .zip(values)
        .filter_map(|(field, value)| Some((field.node.response_key().node.clone(), value?)))
        .collect();
    Ok(object_value(answered.into_iter()))
}

/// `object` under `ctx`'s selection, if every field can be answered at once.
pub fn now<T: PlainObject>(ctx: &ContextSelectionSet<'_>, object: &T) -> Option<Value> {
    let fields = plain_selection(ctx)?;
    let mut values = Vec::with_capacity(fields.len());
    for field in fields {
        let value = plain_value(ctx, object, field)?;
        values.push((field.node.response_key().node.clone(), value));
    }
    Some(object_value(values.into_iter()))
}

/// The value of an object field (`field` a context on it) holding `object`,
/// if all of it can be answered at once.
pub fn object<T: PlainObject>(field: &Context<'_>, object: &T) -> Option<Value> {
    now(
        &field.with_selection_set(&field.item.node.selection_set),
        object,
    )
}

/// The value of a list field (`field` a context on it) holding `objects`,
/// if all of them can be answered at once.
pub fn list<'a, T: PlainObject + 'a>(
    field: &Context<'_>,
    objects: impl IntoIterator<Item = &'a T>,
) -> Option<Value> {
    let ctx = field.with_selection_set(&field.item.node.selection_set);
    let objects = objects.into_iter();
    let mut values = Vec::with_capacity(objects.size_hint().0);
    for (index, object) in objects.enumerate() {
        values.push(now(&ctx.with_index(index), object)?);
    }
    Some(Value::List(values))
}

/// An object from its fields in selection order; `null` for none, as
/// async-graphql answers.
fn object_value(fields: impl ExactSizeIterator<Item = (Name, Value)>) -> Value {
    let mut object = IndexMap::with_capacity(fields.len());
    for (name, value) in fields {
        insert_merged(&mut object, name, value);
    }
    if object.is_empty() {
        Value::Null
    } else {
        Value::Object(object)
    }
}

/// Inserts a field; a key already there (`items { id } items { sku }`)
/// gets the new selection's fields merged into its object, or into each of
/// its list's objects, as async-graphql merges them.
fn insert_merged(object: &mut IndexMap<Name, Value>, name: Name, value: Value) {
    let existing = match object.entry(name) {
        Entry::Vacant(entry) => {
            entry.insert(value);
            return;
        }
        Entry::Occupied(entry) => entry.into_mut(),
    };
    match (existing, value) {
        (Value::Object(existing), Value::Object(more)) => {
            for (name, value) in more {
                insert_merged(existing, name, value);
            }
        }
        (Value::List(existing), Value::List(more)) => {
            for (existing, more) in existing.iter_mut().zip(more) {
                if let (Value::Object(existing), Value::Object(more)) = (existing, more) {
                    for (name, value) in more {
                        insert_merged(existing, name, value);
                    }
                }
            }
        }
        _ => {}
    }
}

/// A nullable field's value.
pub fn optional<T>(value: Option<T>, to_value: impl FnOnce(T) -> Value) -> Value {
    value.map_or(Value::Null, to_value)
}
