//! `audit_logs`: one row per write, inserted in the write's transaction.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::TenantId;
use crate::db::schema::audit_logs;

/// What kind of row an audit entry is about (`audit_logs.entity_type`).
#[derive(Debug, Clone, Copy)]
pub enum EntityType {
    Order,
    Shipment,
}

impl EntityType {
    fn as_str(self) -> &'static str {
        match self {
            Self::Order => "order",
            Self::Shipment => "shipment",
        }
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = audit_logs)]
pub struct NewAuditLog {
    tenant_id: Uuid,
    entity_type: &'static str,
    entity_id: Uuid,
    action: &'static str,
    changes: serde_json::Value,
    actor_id: Option<Uuid>,
}

impl NewAuditLog {
    /// An entry whose `changes` is `{"before": .., "after": ..}`, each an
    /// object of the fields that changed (`before` is null for a creation).
    pub fn new(
        tenant: TenantId,
        entity_type: EntityType,
        entity_id: Uuid,
        action: &'static str,
        before: serde_json::Value,
        after: serde_json::Value,
        actor_id: Uuid,
    ) -> Self {
        Self {
            tenant_id: tenant.0,
            entity_type: entity_type.as_str(),
            entity_id,
            action,
            changes: serde_json::json!({ "before": before, "after": after }),
            actor_id: Some(actor_id),
        }
    }

    pub async fn insert(&self, connection: &mut AsyncPgConnection) -> QueryResult<()> {
        diesel::insert_into(audit_logs::table)
            .values(self)
            .execute(connection)
            .await
            .map(drop)
    }
}
