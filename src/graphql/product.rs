//! `Product`: an entry of the tenant's catalogue.

use async_graphql::{ID, Object};

use crate::db::models;
use crate::graphql::ids::{GlobalId, NodeKind};
use crate::graphql::scalars::{DateTime, Decimal};

/// An entry of the tenant's catalogue.
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
        self.0.price.clone().into()
    }

    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
}
