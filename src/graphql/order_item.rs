//! `OrderItem`: one line of an order.

use async_graphql::{Context, ID, Object, Value};

use crate::db::models;
use crate::error::{AppError, gql};
use crate::graphql::context::RequestCtx;
use crate::graphql::ids::{GlobalId, NodeKind};
use crate::graphql::loaders::Lookup;
use crate::graphql::order::{self, Order};
use crate::graphql::plain::PlainObject;
use crate::graphql::product::Product;
use crate::graphql::scalars::{DateTime, Decimal};

/// A line of an order: what was bought, how many, at what price.
#[derive(Clone)]
pub struct OrderItem(pub models::OrderItem);

#[Object]
impl OrderItem {
    pub async fn id(&self) -> ID {
        GlobalId::encode(NodeKind::OrderItem, self.0.id)
    }

    async fn sku(&self) -> &str {
        &self.0.sku
    }

    /// The name as sold (the product may since have been renamed).
    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn quantity(&self) -> i32 {
        self.0.quantity
    }

    async fn unit_price(&self) -> Decimal {
        self.0.unit_price.clone().into()
    }

    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }

    /// The catalogue product with this SKU; null when the tenant has none.
    async fn product(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Product>> {
        let loader = &RequestCtx::of(ctx)?.loaders.product_by_sku;
        let product = loader.load_one(self.0.sku.clone()).await.map_err(gql)?;
        Ok(product.flatten().map(Product))
    }

    async fn order(&self, ctx: &Context<'_>) -> async_graphql::Result<Order> {
        order::load(ctx, self.0.order_id, Lookup::Batched)
            .await?
            .ok_or_else(|| {
                gql(AppError::internal(anyhow::anyhow!(
                    "order item without its order"
                )))
            })
    }
}

impl PlainObject for OrderItem {
    fn plain_field(&self, field: &Context<'_>) -> Option<Value> {
        let row = &self.0;
        Some(match field.item.node.name.node.as_str() {
            "id" => Value::String(GlobalId::encode(NodeKind::OrderItem, row.id).0),
            "sku" => Value::from(row.sku.as_str()),
            "name" => Value::from(row.name.as_str()),
            "quantity" => Value::from(row.quantity),
            "unitPrice" => Decimal::value_of(&row.unit_price),
            "createdAt" => DateTime::value_of(row.created_at),
            _ => return None,
        })
    }
}
