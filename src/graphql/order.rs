//! `Order`: an order and its relations (through the request's loaders).

use async_graphql::{Context, ID, Object};

use crate::db::OrderStatus;
use crate::db::models;
use crate::error::gql;
use crate::graphql::context::RequestCtx;
use crate::graphql::ids::{GlobalId, NodeKind};
use crate::graphql::invoice::Invoice;
use crate::graphql::json::Json;
use crate::graphql::loaders::{Lookup, load_one};
use crate::graphql::order_item::OrderItem;
use crate::graphql::plain::{self, Plain, PlainObject};
use crate::graphql::scalars::{BigInt, DateTime, Decimal};
use crate::graphql::shipment::Shipment;
use crate::guard::cost;

/// An order placed with the tenant, synced from a marketplace.
#[derive(Clone)]
pub struct Order {
    pub row: models::Order,
    /// Relations read together with the row (a page's items and
    /// shipments, an order detail's): their fields answer from here rather
    /// than ask the loaders.
    pub loaded: Relations,
}

/// An order's relations, where they were read with it (`None`: not read).
#[derive(Clone, Default)]
pub struct Relations {
    pub items: Option<Vec<Plain<OrderItem>>>,
    pub shipments: Option<Vec<Plain<Shipment>>>,
    pub invoices: Option<Vec<Plain<Invoice>>>,
}

impl Order {
    /// An order whose relations are still to load.
    pub fn new(row: models::Order) -> Self {
        Self {
            row,
            loaded: Relations::default(),
        }
    }

    fn global_id(&self) -> ID {
        GlobalId::encode(NodeKind::Order, self.row.id)
    }
}

#[Object]
impl Order {
    pub async fn id(&self) -> ID {
        self.global_id()
    }

    /// The order's id in BaseLinker, when it came from there.
    async fn bl_order_id(&self) -> Option<BigInt> {
        self.row.bl_order_id.map(BigInt)
    }

    /// The marketplace's own order number.
    async fn external_order_no(&self) -> Option<&str> {
        self.row.external_order_no.as_deref()
    }

    async fn status(&self) -> OrderStatus {
        self.row.status
    }

    async fn total(&self) -> Decimal {
        self.row.total.into()
    }

    /// ISO 4217 code, e.g. `EUR`.
    async fn currency(&self) -> &str {
        &self.row.currency
    }

    async fn customer_email(&self) -> Option<&str> {
        self.row.customer_email.as_deref()
    }

    async fn created_at(&self) -> DateTime {
        self.row.created_at.into()
    }

    /// When the order left `PENDING`; null until then.
    async fn confirmed_at(&self) -> Option<DateTime> {
        self.row.confirmed_at.map(DateTime)
    }

    async fn updated_at(&self) -> DateTime {
        self.row.updated_at.into()
    }

    /// Line items, oldest first.
    #[graphql(complexity = "cost::list(cost::ASSUMED_ITEMS, child_complexity)")]
    async fn items(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Plain<OrderItem>>> {
        if let Some(items) = &self.loaded.items {
            return Ok(items.clone());
        }
        let loader = &RequestCtx::of(ctx)?.loaders.items_by_order;
        let items = loader.load_one(self.row.id).await.map_err(gql)?;
        Ok(items
            .unwrap_or_default()
            .into_iter()
            .map(|row| Plain(OrderItem::new(row)))
            .collect())
    }

    /// Parcels sent for this order, oldest first.
    #[graphql(complexity = "cost::list(cost::ASSUMED_PARCELS, child_complexity)")]
    async fn shipments(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Plain<Shipment>>> {
        if let Some(shipments) = &self.loaded.shipments {
            return Ok(shipments.clone());
        }
        let loader = &RequestCtx::of(ctx)?.loaders.shipments_by_order;
        let shipments = loader.load_one(self.row.id).await.map_err(gql)?;
        Ok(shipments
            .unwrap_or_default()
            .into_iter()
            .map(|row| Plain(Shipment::new(row)))
            .collect())
    }

    /// Invoices issued for this order, oldest first.
    #[graphql(complexity = "cost::list(cost::ASSUMED_PARCELS, child_complexity)")]
    async fn invoices(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Plain<Invoice>>> {
        if let Some(invoices) = &self.loaded.invoices {
            return Ok(invoices.clone());
        }
        let loader = &RequestCtx::of(ctx)?.loaders.invoices_by_order;
        let invoices = loader.load_one(self.row.id).await.map_err(gql)?;
        Ok(invoices
            .unwrap_or_default()
            .into_iter()
            .map(|row| Plain(Invoice(row)))
            .collect())
    }
}

impl PlainObject for Order {
    fn plain_field(&self, field: &Context<'_>, json: &mut Json) -> bool {
        let row = &self.row;
        let loaded = &self.loaded;
        match field.item.node.name.node.as_str() {
            "id" => json.unescaped(|out| GlobalId::encode_into(NodeKind::Order, row.id, out)),
            "blOrderId" => json.optional(row.bl_order_id, |json, id| json.string(&id.to_string())),
            "externalOrderNo" => json.optional_string(row.external_order_no.as_deref()),
            "status" => json.string(row.status.as_str()),
            "total" => json.unescaped(|out| row.total.write(out)),
            "currency" => json.string(&row.currency),
            "customerEmail" => json.optional_string(row.customer_email.as_deref()),
            "createdAt" => json.unescaped(|out| DateTime::write(row.created_at, out)),
            "confirmedAt" => json.optional(row.confirmed_at, |json, at| {
                json.unescaped(|out| DateTime::write(at, out))
            }),
            "updatedAt" => json.unescaped(|out| DateTime::write(row.updated_at, out)),
            "items" => plain::list(field, read_with_order(&loaded.items), json),
            "shipments" => plain::list(field, read_with_order(&loaded.shipments), json),
            "invoices" => plain::list(field, read_with_order(&loaded.invoices), json),
            _ => false,
        }
    }
}

/// A relation's objects, if they were read with the order.
fn read_with_order<T>(relation: &Option<Vec<Plain<T>>>) -> Option<impl Iterator<Item = &T>> {
    relation
        .as_ref()
        .map(|objects| objects.iter().map(|object| &object.0))
}

/// The order with this row id, through the request's loader by `lookup`
/// (null when it does not exist or belongs to another tenant).
pub async fn load(
    ctx: &Context<'_>,
    id: uuid::Uuid,
    lookup: Lookup,
) -> async_graphql::Result<Option<Order>> {
    let loader = &RequestCtx::of(ctx)?.loaders.order_by_id;
    Ok(load_one(loader, id, lookup)
        .await
        .map_err(gql)?
        .map(Order::new))
}
