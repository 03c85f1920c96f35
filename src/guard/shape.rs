//! A document's shape, measured on its syntax tree before async-graphql
//! validates it: depth, nesting, aliases, root fields and directives.
//! Fragments are followed where they are spread, so a fragment spread many
//! times counts many times, and the walk stops at the first limit passed:
//! a document that would expand exponentially (fragments spreading
//! fragments) costs no more to refuse than its first few thousand fields.

use std::collections::HashSet;

use async_graphql::Positioned;
use async_graphql::parser::types::{Directive, ExecutableDocument, Selection, SelectionSet};

use crate::config::Limits;
use crate::error::ErrorCode;
use crate::guard::Refused;

/// The fields that start an introspection subtree.
fn is_introspection(name: &str) -> bool {
    matches!(name, "__schema" | "__type")
}

/// What a document asks for, as far as the walk went.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Shape {
    /// Deepest field nesting outside introspection.
    pub depth: usize,
    /// Deepest field nesting under `__schema` or `__type`.
    pub introspection_depth: usize,
    /// Deepest nesting of selection sets, fragments included.
    pub recursion: usize,
    pub aliases: usize,
    /// Most root fields of one operation.
    pub root_fields: usize,
    /// Most directives on one field, fragment or operation.
    pub directives: usize,
    /// Fields with fragments expanded.
    pub fields: usize,
    pub introspects: bool,
}

/// Measures `document` against `limits`; `max_fields` bounds the fields
/// visited with fragments expanded (every field costs at least one unit,
/// so the cost limit bounds it).
pub fn measure(document: &ExecutableDocument, limits: &Limits) -> Result<Shape, Refused> {
    let mut walker = Walker {
        document,
        limits,
        shape: Shape::default(),
        spreads: HashSet::new(),
        root_fields: 0,
    };
    for (_, operation) in document.operations.iter() {
        walker.directives(&operation.node.directives)?;
        walker.root_fields = 0;
        walker.selection_set(&operation.node.selection_set.node, 0, None, 1)?;
    }
    Ok(walker.shape)
}

struct Walker<'a> {
    document: &'a ExecutableDocument,
    limits: &'a Limits,
    shape: Shape,
    /// Fragments being expanded: a cycle is not followed (validation
    /// reports it).
    spreads: HashSet<&'a str>,
    /// Root fields of the operation being walked.
    root_fields: usize,
}

impl<'a> Walker<'a> {
    /// `depth`: fields above this set; `introspection_from`: the depth of
    /// the `__schema`/`__type` field above, if any; `nesting`: this set's
    /// level, counting fragments.
    fn selection_set(
        &mut self,
        set: &'a SelectionSet,
        depth: usize,
        introspection_from: Option<usize>,
        nesting: usize,
    ) -> Result<(), Refused> {
        if set.items.is_empty() {
            return Ok(());
        }
        self.shape.recursion = self.shape.recursion.max(nesting);
        if nesting > self.limits.max_recursion {
            return Err(Refused::new(
                ErrorCode::QueryTooDeep,
                format!(
                    "selections are nested more than {} levels deep (fragments included): flatten the document",
                    self.limits.max_recursion
                ),
            ));
        }
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    self.count_field()?;
                    self.directives(&field.directives)?;
                    if field.alias.is_some() {
                        self.shape.aliases += 1;
                        if self.shape.aliases > self.limits.max_aliases {
                            return Err(Refused::new(
                                ErrorCode::QueryTooComplex,
                                format!(
                                    "the document uses more than {} aliases: request each field once",
                                    self.limits.max_aliases
                                ),
                            ));
                        }
                    }
                    let level = depth + 1;
                    let introspection_from = introspection_from
                        .or_else(|| is_introspection(field.name.node.as_str()).then_some(level));
                    match introspection_from {
                        Some(from) => {
                            self.shape.introspects = true;
                            let introspection_depth = level - from + 1;
                            self.shape.introspection_depth =
                                self.shape.introspection_depth.max(introspection_depth);
                            if introspection_depth > self.limits.max_introspection_depth {
                                return Err(Refused::new(
                                    ErrorCode::QueryTooDeep,
                                    format!(
                                        "introspection is nested {introspection_depth} fields deep; the limit is {}",
                                        self.limits.max_introspection_depth
                                    ),
                                ));
                            }
                        }
                        None => {
                            self.shape.depth = self.shape.depth.max(level);
                            if level > self.limits.max_depth {
                                return Err(Refused::new(
                                    ErrorCode::QueryTooDeep,
                                    format!(
                                        "fields are nested more than {} deep: ask for fewer levels, and fetch deeper data by id with `node`",
                                        self.limits.max_depth
                                    ),
                                ));
                            }
                        }
                    }
                    if depth == 0 {
                        self.count_root_field()?;
                    }
                    self.selection_set(
                        &field.selection_set.node,
                        level,
                        introspection_from,
                        nesting + 1,
                    )?;
                }
                Selection::FragmentSpread(spread) => {
                    self.directives(&spread.node.directives)?;
                    let name = spread.node.fragment_name.node.as_str();
                    let Some(fragment) = self.document.fragments.get(name) else {
                        continue;
                    };
                    if !self.spreads.insert(name) {
                        continue;
                    }
                    let result = self.selection_set(
                        &fragment.node.selection_set.node,
                        depth,
                        introspection_from,
                        nesting + 1,
                    );
                    self.spreads.remove(name);
                    result?;
                }
                Selection::InlineFragment(inline) => {
                    self.directives(&inline.node.directives)?;
                    self.selection_set(
                        &inline.node.selection_set.node,
                        depth,
                        introspection_from,
                        nesting + 1,
                    )?;
                }
            }
        }
        Ok(())
    }

    fn count_root_field(&mut self) -> Result<(), Refused> {
        self.root_fields += 1;
        self.shape.root_fields = self.shape.root_fields.max(self.root_fields);
        if self.root_fields > self.limits.max_root_fields {
            return Err(Refused::new(
                ErrorCode::QueryTooComplex,
                format!(
                    "an operation asks for more than {} root fields: split it into several requests",
                    self.limits.max_root_fields
                ),
            ));
        }
        Ok(())
    }

    fn count_field(&mut self) -> Result<(), Refused> {
        self.shape.fields += 1;
        if self.shape.fields > self.limits.max_cost {
            return Err(Refused::new(
                ErrorCode::QueryTooComplex,
                format!(
                    "the document expands to more than {} fields (fragments included), over the cost limit of {}",
                    self.limits.max_cost, self.limits.max_cost
                ),
            ));
        }
        Ok(())
    }

    fn directives(&mut self, directives: &[Positioned<Directive>]) -> Result<(), Refused> {
        self.shape.directives = self.shape.directives.max(directives.len());
        if directives.len() > self.limits.max_directives {
            return Err(Refused::new(
                ErrorCode::QueryTooComplex,
                format!(
                    "{} directives on one selection; the limit is {}",
                    directives.len(),
                    self.limits.max_directives
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persisted::normalize::count_tokens;

    fn measured(text: &str) -> Shape {
        let document = async_graphql::parser::parse_query(text).unwrap();
        measure(&document, &Limits::default()).unwrap()
    }

    /// The figures the README's "Limits" quotes, and the proof that the
    /// defaults leave the frontend's documents and GraphiQL room.
    #[test]
    fn the_contract_operations_and_graphiql_fit_the_default_shape() {
        let root = env!("CARGO_MANIFEST_DIR");
        let limits = Limits::default();
        let mut widest = (0, 0, 0);
        for entry in std::fs::read_dir(format!("{root}/tests/contract/operations")).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let shape = measured(&text);
            let tokens = count_tokens(&text).unwrap();
            println!(
                "{}: depth {}, {} tokens, {} bytes, {} aliases",
                path.file_name().unwrap().to_string_lossy(),
                shape.depth,
                tokens,
                text.len(),
                shape.aliases
            );
            widest = (
                widest.0.max(shape.depth),
                widest.1.max(tokens),
                widest.2.max(text.len()),
            );
        }
        assert!(widest.0 < limits.max_depth);
        assert!(widest.1 * 2 < limits.max_tokens);
        assert!(widest.2 * 4 < limits.max_document_bytes);

        let graphiql = std::fs::read_to_string(format!(
            "{root}/tests/fixtures/graphiql_introspection.graphql"
        ))
        .unwrap();
        let shape = measured(&graphiql);
        println!(
            "GraphiQL: introspection depth {}, nesting {}, {} tokens, {} bytes",
            shape.introspection_depth,
            shape.recursion,
            count_tokens(&graphiql).unwrap(),
            graphiql.len()
        );
        assert!(shape.introspection_depth <= limits.max_introspection_depth);
    }

    #[test]
    fn a_fragment_cycle_is_not_followed() {
        let shape = measured(
            "{ orders { edges { node { ...A } } } } fragment A on Order { id ...B } fragment B on Order { ...A }",
        );
        assert_eq!(shape.depth, 4);
    }
}
