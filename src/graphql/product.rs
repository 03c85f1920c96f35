//! `Product`: an entry of the tenant's catalogue.

use async_graphql::{Context, ID, Object};

use crate::db::models;
use crate::graphql::ids::{GlobalId, NodeKind};
use crate::graphql::json::Json;
use crate::graphql::plain::PlainObject;
use crate::graphql::scalars::{DateTime, Decimal};

/// An entry of the tenant's catalogue.
#[derive(Clone)]
pub struct Product(pub models::Product);

#[Object]
impl Product {
    pub async fn id(&self) -> ID {
        GlobalId::encode(NodeKind::Product, self.0.id)
    }

    /// Stock keeping unit; unique within the tenant.
    async fn sku(&self) -> &str {
        &self.0.sku
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The current list price.
    async fn price(&self) -> Decimal {
        self.0.price.into()
    }

    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
}

impl PlainObject for Product {
    fn plain_field(&self, field: &Context<'_>, json: &mut Json) -> bool {
        let row = &self.0;
        match field.item.node.name.node.as_str() {
            "id" => json.unescaped(|out| GlobalId::encode_into(NodeKind::Product, row.id, out)),
            "sku" => json.string(&row.sku),
            "name" => json.string(&row.name),
            "price" => json.unescaped(|out| row.price.write(out)),
            "createdAt" => json.unescaped(|out| DateTime::write(row.created_at, out)),
            _ => false,
        }
    }
}
