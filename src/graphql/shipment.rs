//! `Shipment`: a parcel sent for an order.

use async_graphql::{Context, ID, InputType, Object, Value};

use crate::db::ShipmentStatus;
use crate::db::models;
use crate::error::{AppError, gql};
use crate::graphql::ids::{GlobalId, NodeKind};
use crate::graphql::loaders::Lookup;
use crate::graphql::order::{self, Order};
use crate::graphql::plain::{self, Plain, PlainObject};
use crate::graphql::scalars::DateTime;

/// A parcel sent for an order.
#[derive(Clone)]
pub struct Shipment {
    pub row: models::Shipment,
    /// Its order, where it was read with the shipment (a page's): its
    /// field answers from here rather than ask the loader.
    pub order: Option<Box<Order>>,
}

impl Shipment {
    /// A shipment whose order is still to load.
    pub fn new(row: models::Shipment) -> Self {
        Self { row, order: None }
    }
}

#[Object]
impl Shipment {
    pub async fn id(&self) -> ID {
        GlobalId::encode(NodeKind::Shipment, self.row.id)
    }

    /// The carrier's name, e.g. `DHL`.
    async fn carrier(&self) -> &str {
        &self.row.carrier
    }

    /// The carrier's tracking number; unique per carrier within the tenant.
    async fn tracking_no(&self) -> Option<&str> {
        self.row.tracking_no.as_deref()
    }

    async fn status(&self) -> ShipmentStatus {
        self.row.status
    }

    async fn shipped_at(&self) -> Option<DateTime> {
        self.row.shipped_at.map(DateTime)
    }

    async fn delivered_at(&self) -> Option<DateTime> {
        self.row.delivered_at.map(DateTime)
    }

    async fn created_at(&self) -> DateTime {
        self.row.created_at.into()
    }

    async fn order(&self, ctx: &Context<'_>) -> async_graphql::Result<Plain<Order>> {
        if let Some(order) = &self.order {
            return Ok(Plain(Order::clone(order)));
        }
        order::load(ctx, self.row.order_id, Lookup::Batched)
            .await?
            .map(Plain)
            .ok_or_else(|| {
                gql(AppError::internal(anyhow::anyhow!(
                    "shipment without its order"
                )))
            })
    }
}

impl PlainObject for Shipment {
    fn plain_field(&self, field: &Context<'_>) -> Option<Value> {
        let row = &self.row;
        Some(match field.item.node.name.node.as_str() {
            "id" => Value::String(GlobalId::encode(NodeKind::Shipment, row.id).0),
            "carrier" => Value::from(row.carrier.as_str()),
            "trackingNo" => plain::optional(row.tracking_no.as_deref(), Value::from),
            "status" => row.status.to_value(),
            "shippedAt" => plain::optional(row.shipped_at, DateTime::value_of),
            "deliveredAt" => plain::optional(row.delivered_at, DateTime::value_of),
            "createdAt" => DateTime::value_of(row.created_at),
            "order" => plain::object(field, self.order.as_deref()?)?,
            _ => return None,
        })
    }
}
