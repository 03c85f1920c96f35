//! `Invoice`: what was billed for an order.

use async_graphql::{Context, ID, Object};

use crate::db::models;
use crate::error::{AppError, gql};
use crate::graphql::ids::{GlobalId, NodeKind};
use crate::graphql::json::Json;
use crate::graphql::loaders::Lookup;
use crate::graphql::order::{self, Order};
use crate::graphql::plain::PlainObject;
use crate::graphql::scalars::{DateTime, Decimal};

/// An invoice issued for an order.
#[derive(Clone)]
pub struct Invoice(pub models::Invoice);

#[Object]
impl Invoice {
    pub async fn id(&self) -> ID {
        GlobalId::encode(NodeKind::Invoice, self.0.id)
    }

    /// The invoice number; unique within the tenant.
    async fn number(&self) -> &str {
        &self.0.number
    }

    async fn total(&self) -> Decimal {
        self.0.total.into()
    }

    async fn currency(&self) -> &str {
        &self.0.currency
    }

    async fn issued_at(&self) -> DateTime {
        self.0.issued_at.into()
    }

    async fn order(&self, ctx: &Context<'_>) -> async_graphql::Result<Order> {
        order::load(ctx, self.0.order_id, Lookup::Batched)
            .await?
            .ok_or_else(|| {
                gql(AppError::internal(anyhow::anyhow!(
                    "invoice without its order"
                )))
            })
    }
}

impl PlainObject for Invoice {
    fn plain_field(&self, field: &Context<'_>, json: &mut Json) -> bool {
        let row = &self.0;
        match field.item.node.name.node.as_str() {
            "id" => json.unescaped(|out| GlobalId::encode_into(NodeKind::Invoice, row.id, out)),
            "number" => json.string(&row.number),
            "total" => json.unescaped(|out| row.total.write(out)),
            "currency" => json.string(&row.currency),
            "issuedAt" => json.unescaped(|out| DateTime::write(row.issued_at, out)),
            _ => false,
        }
    }
}
