//! `AuditLog`: one write, as recorded in the same transaction as the write.

use async_graphql::{ID, Json, Object};

use crate::db::models;
use crate::graphql::ids::{GlobalId, NodeKind};
use crate::graphql::scalars::DateTime;

/// One write to an order or a shipment: who, when, and what changed.
pub struct AuditLog(pub models::AuditLog);

#[Object]
impl AuditLog {
    /// The entry's number; later entries have larger numbers.
    async fn sequence(&self) -> crate::graphql::scalars::BigInt {
        crate::graphql::scalars::BigInt(self.0.id)
    }

    /// `order` or `shipment`.
    async fn entity_type(&self) -> &str {
        &self.0.entity_type
    }

    /// The global id of the order or shipment written.
    async fn entity_id(&self) -> ID {
        let kind = match self.0.entity_type.as_str() {
            "shipment" => NodeKind::Shipment,
            _ => NodeKind::Order,
        };
        GlobalId::encode(kind, self.0.entity_id)
    }

    /// What was done, e.g. `update_status`, `create`.
    async fn action(&self) -> &str {
        &self.0.action
    }

    /// `{"before": {...}, "after": {...}}` of the fields that changed
    /// (`before` is null for a creation).
    async fn changes(&self) -> Json<&serde_json::Value> {
        Json(&self.0.changes)
    }

    /// The user who wrote it (the token's `sub`).
    async fn actor_id(&self) -> Option<ID> {
        self.0.actor_id.map(|id| ID(id.to_string()))
    }

    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
}
