//! `Order`: an order and its relations (through the request's loaders).

use async_graphql::{Context, ID, Object};

use crate::db::OrderStatus;
use crate::db::models;
use crate::error::gql;
use crate::graphql::context::RequestCtx;
use crate::graphql::ids::{GlobalId, NodeKind};
use crate::graphql::invoice::Invoice;
use crate::graphql::loaders::{Lookup, load_one};
use crate::graphql::order_item::OrderItem;
use crate::graphql::scalars::{BigInt, DateTime, Decimal};
use crate::graphql::shipment::Shipment;
use crate::guard::cost;

/// An order placed with the tenant, synced from a marketplace.
pub struct Order(pub models::Order);

#[Object]
impl Order {
    pub async fn id(&self) -> ID {
        GlobalId::encode(NodeKind::Order, self.0.id)
    }

    /// The order's id in BaseLinker, when it came from there.
    async fn bl_order_id(&self) -> Option<BigInt> {
        self.0.bl_order_id.map(BigInt)
    }

    /// The marketplace's own order number.
    async fn external_order_no(&self) -> Option<&str> {
        self.0.external_order_no.as_deref()
    }

    async fn status(&self) -> OrderStatus {
        self.0.status
    }

    async fn total(&self) -> Decimal {
        self.0.total.clone().into()
    }

    /// ISO 4217 code, e.g. `EUR`.
    async fn currency(&self) -> &str {
        &self.0.currency
    }

    async fn customer_email(&self) -> Option<&str> {
        self.0.customer_email.as_deref()
    }

    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }

    /// When the order left `PENDING`; null until then.
    async fn confirmed_at(&self) -> Option<DateTime> {
        self.0.confirmed_at.map(DateTime)
    }

    async fn updated_at(&self) -> DateTime {
        self.0.updated_at.into()
    }

    /// Line items, oldest first.
    #[graphql(complexity = "cost::list(cost::ASSUMED_ITEMS, child_complexity)")]
    async fn items(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<OrderItem>> {
        let loader = &RequestCtx::of(ctx)?.loaders.items_by_order;
        let items = loader.load_one(self.0.id).await.map_err(gql)?;
        Ok(items
            .unwrap_or_default()
            .into_iter()
            .map(OrderItem)
            .collect())
    }

    /// Parcels sent for this order, oldest first.
    #[graphql(complexity = "cost::list(cost::ASSUMED_PARCELS, child_complexity)")]
    async fn shipments(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Shipment>> {
        let loader = &RequestCtx::of(ctx)?.loaders.shipments_by_order;
        let shipments = loader.load_one(self.0.id).await.map_err(gql)?;
        Ok(shipments
            .unwrap_or_default()
            .into_iter()
            .map(Shipment)
            .collect())
    }

    /// Invoices issued for this order, oldest first.
    #[graphql(complexity = "cost::list(cost::ASSUMED_PARCELS, child_complexity)")]
    async fn invoices(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Invoice>> {
        let loader = &RequestCtx::of(ctx)?.loaders.invoices_by_order;
        let invoices = loader.load_one(self.0.id).await.map_err(gql)?;
        Ok(invoices
            .unwrap_or_default()
            .into_iter()
            .map(Invoice)
            .collect())
    }
}

/// The order with this row id, through the request's loader by `lookup`
/// (null when it does not exist or belongs to another tenant).
pub async fn load(
    ctx: &Context<'_>,
    id: uuid::Uuid,
    lookup: Lookup,
) -> async_graphql::Result<Option<Order>> {
    let loader = &RequestCtx::of(ctx)?.loaders.order_by_id;
    Ok(load_one(loader, id, lookup).await.map_err(gql)?.map(Order))
}
