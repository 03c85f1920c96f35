//! Conditions diesel's DSL cannot write (a literal a partial index's
//! predicate must match, a row comparison for keyset pages), written so
//! that the statements holding them stay prepared.
//!
//! `diesel::dsl::sql` marks its statement unsafe to cache, because its text
//! may differ between two queries of one static query id. diesel-async then
//! prepares such a statement anew on every execution: one more round trip,
//! and PostgreSQL parses and plans it again. These conditions have no static
//! query id (`HAS_STATIC_QUERY_ID = false`), which makes the whole statement
//! keyed by its SQL text in the connection's statement cache; a different
//! text is a different entry, so caching them is safe. Their text never
//! holds client input: it is fixed, or built from enum values.

use std::borrow::Cow;

use diesel::expression::{AppearsOnTable, Expression, ValidGrouping, is_aggregate};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::Bool;
use diesel::{QueryResult, SelectableExpression};

/// A condition in SQL text, without binds.
#[derive(Debug, Clone)]
pub struct Literal(Cow<'static, str>);

impl Literal {
    /// `text` must not hold client input: it goes into the statement as is.
    pub fn new(text: impl Into<Cow<'static, str>>) -> Self {
        Self(text.into())
    }
}

impl Expression for Literal {
    type SqlType = Bool;
}

impl QueryFragment<Pg> for Literal {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(&self.0);
        Ok(())
    }
}

impl QueryId for Literal {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<QS> AppearsOnTable<QS> for Literal {}

impl<QS> SelectableExpression<QS> for Literal {}

impl ValidGrouping<()> for Literal {
    type IsAggregate = is_aggregate::Never;
}

/// `(columns) < (first, second)` (or `>`): the keyset condition of a page
/// after a cursor, on the sort's index.
#[derive(Debug, Clone)]
pub struct RowComparison<A, B> {
    columns: &'static str,
    comparison: &'static str,
    first: A,
    second: B,
}

impl<A, B> RowComparison<A, B> {
    /// `columns` is the row of column names, e.g. `(orders.created_at,
    /// orders.id)`; `first` and `second` are bound values
    /// (`IntoSql::into_sql`).
    pub fn new(columns: &'static str, descending: bool, first: A, second: B) -> Self {
        Self {
            columns,
            comparison: if descending { " < (" } else { " > (" },
            first,
            second,
        }
    }
}

impl<A, B> Expression for RowComparison<A, B> {
    type SqlType = Bool;
}

impl<A: QueryFragment<Pg>, B: QueryFragment<Pg>> QueryFragment<Pg> for RowComparison<A, B> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(self.columns);
        out.push_sql(self.comparison);
        self.first.walk_ast(out.reborrow())?;
        out.push_sql(", ");
        self.second.walk_ast(out.reborrow())?;
        out.push_sql(")");
        Ok(())
    }
}

impl<A, B> QueryId for RowComparison<A, B> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<A, B, QS> AppearsOnTable<QS> for RowComparison<A, B> {}

impl<A, B, QS> SelectableExpression<QS> for RowComparison<A, B> {}

impl<A, B> ValidGrouping<()> for RowComparison<A, B> {
    type IsAggregate = is_aggregate::Never;
}
