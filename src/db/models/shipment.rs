//! `shipments`: parcels, their keyset-paginated list, and new labels.

use chrono::{DateTime, Utc};
use compact_str::CompactString;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::instrument::selecting;
use crate::db::predicate::{Literal, RowComparison};
use crate::db::schema::shipments;
use crate::db::{ShipmentStatus, TenantId};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize, serde::Deserialize)]
#[diesel(table_name = shipments)]
pub struct Shipment {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub order_id: Uuid,
    pub carrier: CompactString,
    pub tracking_no: Option<CompactString>,
    pub status: ShipmentStatus,
    pub shipped_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// Where a page of shipments starts: `(created_at, id)` of the last row seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShipmentKey(pub DateTime<Utc>, pub Uuid);

/// One page of a tenant's shipments, newest `created_at` first.
#[derive(Debug, Clone)]
pub struct ShipmentPage<'a> {
    /// Only shipments whose status is not `DELIVERED`.
    pub undelivered: bool,
    pub carrier: Option<&'a str>,
    pub statuses: Option<&'a [ShipmentStatus]>,
    /// Shipped at or after this instant.
    pub shipped_from: Option<DateTime<Utc>>,
    /// Shipped before this instant.
    pub shipped_until: Option<DateTime<Utc>>,
    pub after: Option<ShipmentKey>,
    pub limit: i64,
}

/// The unique index that makes a tracking number name one parcel per
/// carrier within a tenant.
pub const TRACKING_NUMBER_KEY: &str = "shipments_tenant_carrier_tracking_key";

type BoxedShipments<'a> = shipments::BoxedQuery<'a, Pg, diesel::dsl::AsSelect<Shipment, Pg>>;

impl Shipment {
    /// The shipments of these orders, each order's oldest first.
    pub async fn for_orders(
        mut connection: &AsyncPgConnection,
        tenant: TenantId,
        order_ids: &[Uuid],
    ) -> QueryResult<Vec<Self>> {
        selecting("shipments", || {
            Self::for_orders_query(tenant, order_ids).load(&mut connection)
        })
        .await
    }

    /// The statement of [`Self::for_orders`] (one per DataLoader batch, on
    /// the `order_id` index).
    pub fn for_orders_query(
        tenant: TenantId,
        order_ids: &[Uuid],
    ) -> shipments::BoxedQuery<'_, Pg, diesel::dsl::AsSelect<Self, Pg>> {
        shipments::table
            .filter(shipments::tenant_id.eq(tenant.0))
            .filter(shipments::order_id.eq_any(order_ids))
            .order((shipments::created_at, shipments::id))
            .select(Self::as_select())
            .into_boxed()
    }

    pub async fn find_by_ids(
        mut connection: &AsyncPgConnection,
        tenant: TenantId,
        ids: &[Uuid],
    ) -> QueryResult<Vec<Self>> {
        selecting("shipments", || {
            shipments::table
                .filter(shipments::tenant_id.eq(tenant.0))
                .filter(shipments::id.eq_any(ids))
                .select(Self::as_select())
                .load(&mut connection)
        })
        .await
    }

    pub async fn page(
        mut connection: &AsyncPgConnection,
        tenant: TenantId,
        page: &ShipmentPage<'_>,
    ) -> QueryResult<Vec<Self>> {
        selecting("shipments", || page.query(tenant).load(&mut connection)).await
    }

    /// Inserts a new shipment. A tracking number the carrier already uses
    /// in the tenant fails on [`TRACKING_NUMBER_KEY`].
    pub async fn insert(&self, connection: &mut AsyncPgConnection) -> QueryResult<Self> {
        diesel::insert_into(shipments::table)
            .values(self)
            .returning(Self::as_returning())
            .get_result(connection)
            .await
    }
}

impl ShipmentPage<'_> {
    /// The statement of [`Shipment::page`].
    pub fn query(&self, tenant: TenantId) -> BoxedShipments<'_> {
        let mut query = shipments::table
            .filter(shipments::tenant_id.eq(tenant.0))
            .select(Shipment::as_select())
            .into_boxed();
        if self.undelivered {
            // A literal, as in idx_shipments_undelivered's predicate, so that
            // the planner can use that partial index for a carrier.
            query = query.filter(Literal::new("shipments.status <> 'DELIVERED'"));
        }
        if let Some(carrier) = self.carrier {
            query = query.filter(shipments::carrier.eq(carrier));
        }
        if let Some(statuses) = self.statuses {
            query = query.filter(shipments::status.eq_any(statuses));
        }
        // A time range on shipped_at: the BRIN index's query.
        if let Some(from) = self.shipped_from {
            query = query.filter(shipments::shipped_at.ge(from));
        }
        if let Some(until) = self.shipped_until {
            query = query.filter(shipments::shipped_at.lt(until));
        }
        if let Some(ShipmentKey(created_at, id)) = self.after {
            query = query.filter(RowComparison::new(
                "(shipments.created_at, shipments.id)",
                true,
                created_at.into_sql::<Timestamptz>(),
                id.into_sql::<SqlUuid>(),
            ));
        }
        query
            .order((shipments::created_at.desc(), shipments::id.desc()))
            .limit(self.limit)
    }
}
