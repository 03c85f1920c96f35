//! `audit_logs`: one row per write, inserted in the write's transaction,
//! and the tenant's audit feed.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::audit_logs;
use crate::db::{OrderStatus, TenantId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_logs)]
pub struct AuditLog {
    pub id: i64,
    pub tenant_id: Uuid,
    pub entity_type: String,
    pub entity_id: Uuid,
    pub action: String,
    pub changes: serde_json::Value,
    pub actor_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// One page of a tenant's audit feed, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditLogPage<'a> {
    pub entity_id: Option<Uuid>,
    pub action: Option<&'a str>,
    /// Entries whose write moved an order to this status
    /// (`changes @> {"after": {"status": ..}}`, on the GIN index).
    pub status_changed_to: Option<OrderStatus>,
    /// Entries with a smaller id than this one.
    pub before_id: Option<i64>,
    pub limit: i64,
}

type BoxedAuditLogs<'a> = audit_logs::BoxedQuery<'a, Pg, diesel::dsl::AsSelect<AuditLog, Pg>>;

impl AuditLog {
    pub async fn page(
        mut connection: &AsyncPgConnection,
        tenant: TenantId,
        page: &AuditLogPage<'_>,
    ) -> QueryResult<Vec<Self>> {
        page.query(tenant).load(&mut connection).await
    }
}

impl AuditLogPage<'_> {
    pub fn query(&self, tenant: TenantId) -> BoxedAuditLogs<'_> {
        let mut query = audit_logs::table
            .filter(audit_logs::tenant_id.eq(tenant.0))
            .select(AuditLog::as_select())
            .into_boxed();
        if let Some(entity_id) = self.entity_id {
            query = query.filter(audit_logs::entity_id.eq(entity_id));
        }
        if let Some(action) = self.action {
            query = query.filter(audit_logs::action.eq(action));
        }
        if let Some(status) = self.status_changed_to {
            let after = serde_json::json!({ "after": { "status": status.as_str() } });
            query = query.filter(audit_logs::changes.contains(after));
        }
        if let Some(before_id) = self.before_id {
            query = query.filter(audit_logs::id.lt(before_id));
        }
        query.order(audit_logs::id.desc()).limit(self.limit)
    }
}

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
