//! The Relay connections of the lists the frontend pages through
//! (`OrderConnection`, `ShipmentConnection`): the same types, fields and descriptions as
//! async-graphql's own connection, but plain objects (`graphql::plain`), so
//! that a page of 50 edges and their nodes is one pass rather than three
//! futures per edge.

use async_graphql::connection::PageInfo;
use async_graphql::resolver_utils::ContainerType;
use async_graphql::{Context, Object, OutputType};

use crate::graphql::json::Json;
use crate::graphql::order::Order;
use crate::graphql::plain::{self, Plain, PlainObject};
use crate::graphql::shipment::Shipment;

/// A page of nodes, each with its cursor.
pub struct Connection<T> {
    pub edges: Vec<Plain<Edge<T>>>,
    pub page_info: PageInfo,
}

/// A node and its cursor.
pub struct Edge<T> {
    pub cursor: String,
    pub node: Plain<T>,
}

impl<T> Connection<T> {
    /// A page of `edges`, its cursors taken from its first and last edges.
    pub fn new(edges: Vec<Edge<T>>, has_previous_page: bool, has_next_page: bool) -> Self {
        let page_info = PageInfo {
            has_previous_page,
            has_next_page,
            start_cursor: edges.first().map(|edge| edge.cursor.clone()),
            end_cursor: edges.last().map(|edge| edge.cursor.clone()),
        };
        Self {
            edges: edges.into_iter().map(Plain).collect(),
            page_info,
        }
    }
}

// Descriptions as async-graphql's connection types give them, so that the
// schema reads the same.
#[Object(
    concrete(name = "OrderConnection", params(Order)),
    concrete(name = "ShipmentConnection", params(Shipment))
)]
impl<T: PlainObject> Connection<T>
where
    Edge<T>: PlainObject,
{
    /// Information to aid in pagination.
    async fn page_info(&self) -> &PageInfo {
        &self.page_info
    }

    /// A list of edges.
    async fn edges(&self) -> &[Plain<Edge<T>>] {
        &self.edges
    }

    /// A list of nodes.
    async fn nodes(&self) -> Vec<&Plain<T>> {
        self.edges.iter().map(|edge| &edge.0.node).collect()
    }
}

/// An edge in a connection.
#[Object(
    concrete(name = "OrderEdge", params(Order)),
    concrete(name = "ShipmentEdge", params(Shipment))
)]
impl<T: PlainObject> Edge<T> {
    /// The item at the end of the edge
    async fn node(&self) -> &Plain<T> {
        &self.node
    }

    /// A cursor for use in pagination
    async fn cursor(&self) -> &str {
        &self.cursor
    }
}

impl<T: PlainObject> PlainObject for Connection<T>
where
    Self: ContainerType + OutputType,
    Edge<T>: PlainObject,
{
    fn plain_field(&self, field: &Context<'_>, json: &mut Json) -> bool {
        match field.item.node.name.node.as_str() {
            "pageInfo" => plain::object(field, &self.page_info, json),
            "edges" => plain::list(field, Some(self.edges.iter().map(|edge| &edge.0)), json),
            "nodes" => plain::list(
                field,
                Some(self.edges.iter().map(|edge| &edge.0.node.0)),
                json,
            ),
            _ => false,
        }
    }
}

impl<T: PlainObject> PlainObject for Edge<T>
where
    Self: ContainerType + OutputType,
{
    fn plain_field(&self, field: &Context<'_>, json: &mut Json) -> bool {
        match field.item.node.name.node.as_str() {
            "cursor" => json.string(&self.cursor),
            "node" => plain::object(field, &self.node.0, json),
            _ => false,
        }
    }
}

impl PlainObject for PageInfo {
    fn plain_field(&self, field: &Context<'_>, json: &mut Json) -> bool {
        match field.item.node.name.node.as_str() {
            "hasPreviousPage" => json.boolean(self.has_previous_page),
            "hasNextPage" => json.boolean(self.has_next_page),
            "startCursor" => json.optional_string(self.start_cursor.as_deref()),
            "endCursor" => json.optional_string(self.end_cursor.as_deref()),
            _ => false,
        }
    }
}
