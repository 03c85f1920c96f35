//! `OrderItem`: one line of an order.

use async_graphql::{Context, ID, Object};

use crate::db::models;
use crate::error::{AppError, gql};
use crate::graphql::context::RequestCtx;
use crate::graphql::ids::{GlobalId, NodeKind};
use crate::graphql::json::Json;
use crate::graphql::loaders::Lookup;
use crate::graphql::order::{self, Order};
use crate::graphql::plain::{self, PlainObject};
use crate::graphql::product::Product;
use crate::graphql::scalars::{DateTime, Decimal};

/// A line of an order: what was bought, how many, at what price.
#[derive(Clone)]
pub struct OrderItem {
    pub row: models::OrderItem,
    /// Its catalogue product, where it was read with the item (an order
    /// detail's): `Some(None)` when the tenant has no product of this SKU.
    pub product: Option<Option<Product>>,
}

impl OrderItem {
    /// An item whose product is still to load.
    pub fn new(row: models::OrderItem) -> Self {
        Self { row, product: None }
    }
}

#[Object]
impl OrderItem {
    pub async fn id(&self) -> ID {
        GlobalId::encode(NodeKind::OrderItem, self.row.id)
    }

    async fn sku(&self) -> &str {
        &self.row.sku
    }

    /// The name as sold (the product may since have been renamed).
    async fn name(&self) -> &str {
        &self.row.name
    }

    async fn quantity(&self) -> i32 {
        self.row.quantity
    }

    async fn unit_price(&self) -> Decimal {
        self.row.unit_price.into()
    }

    async fn created_at(&self) -> DateTime {
        self.row.created_at.into()
    }

    /// The catalogue product with this SKU; null when the tenant has none.
    async fn product(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Product>> {
        if let Some(product) = &self.product {
            return Ok(product.clone());
        }
        let loader = &RequestCtx::of(ctx)?.loaders.product_by_sku;
        let product = loader.load_one(self.row.sku.clone()).await.map_err(gql)?;
        Ok(product.flatten().map(Product))
    }

    async fn order(&self, ctx: &Context<'_>) -> async_graphql::Result<Order> {
        order::load(ctx, self.row.order_id, Lookup::Batched)
            .await?
            .ok_or_else(|| {
                gql(AppError::internal(anyhow::anyhow!(
                    "order item without its order"
                )))
            })
    }
}

impl PlainObject for OrderItem {
    fn plain_field(&self, field: &Context<'_>, json: &mut Json) -> bool {
        let row = &self.row;
        match field.item.node.name.node.as_str() {
            "id" => json.unescaped(|out| GlobalId::encode_into(NodeKind::OrderItem, row.id, out)),
            "sku" => json.string(&row.sku),
            "name" => json.string(&row.name),
            "quantity" => json.int(row.quantity.into()),
            "unitPrice" => json.unescaped(|out| row.unit_price.write(out)),
            "createdAt" => json.unescaped(|out| DateTime::write(row.created_at, out)),
            "product" => match &self.product {
                Some(Some(product)) => plain::object(field, product, json),
                Some(None) => json.null(),
                None => false,
            },
            _ => false,
        }
    }
}
