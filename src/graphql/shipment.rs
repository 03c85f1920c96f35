//! `Shipment`: a parcel sent for an order.

use async_graphql::{Context, ID, Object};

use crate::db::ShipmentStatus;
use crate::db::models;
use crate::error::{AppError, gql};
use crate::graphql::ids::{GlobalId, NodeKind};
use crate::graphql::json::Json;
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
    fn plain_field(&self, field: &Context<'_>, json: &mut Json) -> bool {
        let row = &self.row;
        match field.item.node.name.node.as_str() {
            "id" => json.unescaped(|out| GlobalId::encode_into(NodeKind::Shipment, row.id, out)),
            "carrier" => json.string(&row.carrier),
            "trackingNo" => json.optional_string(row.tracking_no.as_deref()),
            "status" => json.string(row.status.as_str()),
            "shippedAt" => json.optional(row.shipped_at, |json, at| {
                json.unescaped(|out| DateTime::write(at, out))
            }),
            "deliveredAt" => json.optional(row.delivered_at, |json, at| {
                json.unescaped(|out| DateTime::write(at, out))
            }),
            "createdAt" => json.unescaped(|out| DateTime::write(row.created_at, out)),
            "order" => match &self.order {
                Some(order) => plain::object(field, order.as_ref(), json),
                None => false,
            },
            _ => false,
        }
    }
}
