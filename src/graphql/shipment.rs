//! `Shipment`: a parcel sent for an order.

use async_graphql::{Context, ID, InputType, Object, Value};

use crate::db::ShipmentStatus;
use crate::db::models;
use crate::error::{AppError, gql};
use crate::graphql::ids::{GlobalId, NodeKind};
use crate::graphql::loaders::Lookup;
use crate::graphql::order::{self, Order};
use crate::graphql::plain::{self, PlainObject};
use crate::graphql::scalars::DateTime;

/// A parcel sent for an order.
#[derive(Clone)]
pub struct Shipment(pub models::Shipment);

#[Object]
impl Shipment {
    pub async fn id(&self) -> ID {
        GlobalId::encode(NodeKind::Shipment, self.0.id)
    }

    /// The carrier's name, e.g. `DHL`.
    async fn carrier(&self) -> &str {
        &self.0.carrier
    }

    /// The carrier's tracking number; unique per carrier within the tenant.
    async fn tracking_no(&self) -> Option<&str> {
        self.0.tracking_no.as_deref()
    }

    async fn status(&self) -> ShipmentStatus {
        self.0.status
    }

    async fn shipped_at(&self) -> Option<DateTime> {
        self.0.shipped_at.map(DateTime)
    }

    async fn delivered_at(&self) -> Option<DateTime> {
        self.0.delivered_at.map(DateTime)
    }

    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }

    async fn order(&self, ctx: &Context<'_>) -> async_graphql::Result<Order> {
        order::load(ctx, self.0.order_id, Lookup::Batched)
            .await?
            .ok_or_else(|| {
                gql(AppError::internal(anyhow::anyhow!(
                    "shipment without its order"
                )))
            })
    }
}

impl PlainObject for Shipment {
    fn plain_field(&self, field: &Context<'_>) -> Option<Value> {
        let row = &self.0;
        Some(match field.item.node.name.node.as_str() {
            "id" => Value::String(GlobalId::encode(NodeKind::Shipment, row.id).0),
            "carrier" => Value::from(row.carrier.as_str()),
            "trackingNo" => plain::optional(row.tracking_no.as_deref(), Value::from),
            "status" => row.status.to_value(),
            "shippedAt" => plain::optional(row.shipped_at, DateTime::value_of),
            "deliveredAt" => plain::optional(row.delivered_at, DateTime::value_of),
            "createdAt" => DateTime::value_of(row.created_at),
            _ => return None,
        })
    }
}
