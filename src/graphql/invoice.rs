//! `Invoice`: what was billed for an order.

use async_graphql::{Context, ID, Object, Value};

use crate::db::models;
use crate::error::{AppError, gql};
use crate::graphql::ids::{GlobalId, NodeKind};
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
        self.0.total.clone().into()
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
    fn plain_field(&self, field: &Context<'_>) -> Option<Value> {
        let row = &self.0;
        Some(match field.item.node.name.node.as_str() {
            "id" => Value::String(GlobalId::encode(NodeKind::Invoice, row.id).0),
            "number" => Value::from(row.number.as_str()),
            "total" => Decimal::value_of(&row.total),
            "currency" => Value::from(row.currency.as_str()),
            "issuedAt" => DateTime::value_of(row.issued_at),
            _ => return None,
        })
    }
}
