//! `Node`: global object identification, as Relay and Apollo clients
//! refetch by id.

use async_graphql::{Context, ID, Interface};

use crate::error::gql;
use crate::graphql::context::RequestCtx;
use crate::graphql::ids::{GlobalId, NodeKind};
use crate::graphql::invoice::Invoice;
use crate::graphql::loaders::{Lookup, load_one};
use crate::graphql::order::{self, Order};
use crate::graphql::order_item::OrderItem;
use crate::graphql::product::Product;
use crate::graphql::shipment::Shipment;

/// An object with a global id, fetchable with `node(id:)`.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "The object's global id."))]
pub enum Node {
    Order(Order),
    OrderItem(OrderItem),
    Shipment(Shipment),
    Invoice(Invoice),
    Product(Product),
}

/// The object a global id names, if it exists in the caller's tenant,
/// looked up by `lookup`.
pub async fn load(
    ctx: &Context<'_>,
    id: &ID,
    lookup: Lookup,
) -> async_graphql::Result<Option<Node>> {
    let global = GlobalId::decode(id).map_err(gql)?;
    let loaders = &RequestCtx::of(ctx)?.loaders;
    Ok(match global.kind {
        NodeKind::Order => order::load(ctx, global.id, lookup).await?.map(Node::Order),
        NodeKind::OrderItem => load_one(&loaders.order_item_by_id, global.id, lookup)
            .await
            .map_err(gql)?
            .map(|row| Node::OrderItem(OrderItem::new(row))),
        NodeKind::Shipment => load_one(&loaders.shipment_by_id, global.id, lookup)
            .await
            .map_err(gql)?
            .map(|row| Node::Shipment(Shipment::new(row))),
        NodeKind::Invoice => load_one(&loaders.invoice_by_id, global.id, lookup)
            .await
            .map_err(gql)?
            .map(|row| Node::Invoice(Invoice(row))),
        NodeKind::Product => load_one(&loaders.product_by_id, global.id, lookup)
            .await
            .map_err(gql)?
            .map(|row| Node::Product(Product(row))),
    })
}
