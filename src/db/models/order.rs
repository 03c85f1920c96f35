//! `orders`: the rows, the keyset-paginated list, and status changes.

use chrono::{DateTime, Utc};
use compact_str::CompactString;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Numeric, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::contains_pattern;
use crate::db::amount::Amount;
use crate::db::instrument::selecting;
use crate::db::predicate::{Literal, RowComparison};
use crate::db::schema::orders;
use crate::db::{OrderStatus, TenantId};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize, serde::Deserialize)]
#[diesel(table_name = orders)]
pub struct Order {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub bl_order_id: Option<i64>,
    pub external_order_no: Option<CompactString>,
    pub status: OrderStatus,
    pub total: Amount,
    pub currency: CompactString,
    pub customer_email: Option<CompactString>,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// The column a list of orders is sorted by (ties always by id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderSort {
    CreatedAt,
    Total,
}

/// Where a page starts: the sort value and id of the last row seen.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderKey {
    CreatedAt(DateTime<Utc>, Uuid),
    Total(Amount, Uuid),
}

impl OrderKey {
    pub fn of(order: &Order, sort: OrderSort) -> Self {
        match sort {
            OrderSort::CreatedAt => Self::CreatedAt(order.created_at, order.id),
            OrderSort::Total => Self::Total(order.total, order.id),
        }
    }

    pub fn sort(&self) -> OrderSort {
        match self {
            Self::CreatedAt(..) => OrderSort::CreatedAt,
            Self::Total(..) => OrderSort::Total,
        }
    }
}

/// One page of a tenant's orders.
#[derive(Debug, Clone)]
pub struct OrderPage<'a> {
    /// `None`: any status; `Some([])` matches no order.
    pub statuses: Option<&'a [OrderStatus]>,
    /// Case-insensitive substring of the customer's e-mail.
    pub customer_email_contains: Option<&'a str>,
    pub sort: OrderSort,
    pub descending: bool,
    /// Rows strictly after this key, in the page's order.
    pub after: Option<OrderKey>,
    pub limit: i64,
}

type BoxedOrders<'a> = orders::BoxedQuery<'a, Pg, diesel::dsl::AsSelect<Order, Pg>>;

impl Order {
    pub async fn find_by_ids(
        mut connection: &AsyncPgConnection,
        tenant: TenantId,
        ids: &[Uuid],
    ) -> QueryResult<Vec<Self>> {
        selecting("orders", || {
            Self::find_by_ids_query(tenant, ids).load(&mut connection)
        })
        .await
    }

    /// The statement of [`Self::find_by_ids`] (the `order_by_id` loader's).
    pub fn find_by_ids_query(tenant: TenantId, ids: &[Uuid]) -> BoxedOrders<'_> {
        orders::table
            .filter(orders::tenant_id.eq(tenant.0))
            .filter(orders::id.eq_any(ids))
            .select(Self::as_select())
            .into_boxed()
    }

    /// One page, in one statement on the sort's index: the keyset condition
    /// `(sort, id) < (last seen)` instead of an OFFSET, so a page deep in the
    /// list costs what the first one does, and inserts never shift it.
    pub async fn page(
        mut connection: &AsyncPgConnection,
        tenant: TenantId,
        page: &OrderPage<'_>,
    ) -> QueryResult<Vec<Self>> {
        selecting("orders", || page.query(tenant).load(&mut connection)).await
    }

    /// The order, locked until the transaction ends (status changes read
    /// the current status and write the next one without a race).
    pub async fn find_for_update(
        connection: &mut AsyncPgConnection,
        tenant: TenantId,
        id: Uuid,
    ) -> QueryResult<Option<Self>> {
        orders::table
            .filter(orders::tenant_id.eq(tenant.0))
            .filter(orders::id.eq(id))
            .select(Self::as_select())
            .for_update()
            .first(connection)
            .await
            .optional()
    }

    /// How many of the tenant's orders are in each status (statuses
    /// without orders are absent). Index-only on idx_orders_list_covering.
    pub async fn count_by_status(
        mut connection: &AsyncPgConnection,
        tenant: TenantId,
    ) -> QueryResult<Vec<(OrderStatus, i64)>> {
        orders::table
            .filter(orders::tenant_id.eq(tenant.0))
            .group_by(orders::status)
            .select((orders::status, diesel::dsl::count_star()))
            .load(&mut connection)
            .await
    }

    pub async fn update_status(
        connection: &mut AsyncPgConnection,
        tenant: TenantId,
        id: Uuid,
        status: OrderStatus,
        confirmed_at: Option<DateTime<Utc>>,
        updated_at: DateTime<Utc>,
    ) -> QueryResult<Self> {
        diesel::update(orders::table)
            .filter(orders::tenant_id.eq(tenant.0))
            .filter(orders::id.eq(id))
            .set((
                orders::status.eq(status),
                orders::confirmed_at.eq(confirmed_at),
                orders::updated_at.eq(updated_at),
            ))
            .returning(Self::as_returning())
            .get_result(connection)
            .await
    }
}

/// `orders.status IN ('A', 'B')`, or `FALSE` for no status.
fn status_in(statuses: &[OrderStatus]) -> String {
    if statuses.is_empty() {
        return "FALSE".to_owned();
    }
    let values: Vec<String> = statuses
        .iter()
        .map(|status| format!("'{}'", status.as_str()))
        .collect();
    format!("orders.status IN ({})", values.join(", "))
}

impl OrderPage<'_> {
    /// The statement of [`Order::page`].
    pub fn query(&self, tenant: TenantId) -> BoxedOrders<'_> {
        let mut query = orders::table
            .filter(orders::tenant_id.eq(tenant.0))
            .select(Order::as_select())
            .into_boxed();
        if let Some(statuses) = self.statuses {
            // Enum values, never client text, so safe as literals; and as
            // literals the planner estimates them from the column's
            // statistics and proves idx_orders_pending's predicate even under
            // a generic plan (a bound `= ANY($1)` allows neither).
            query = query.filter(Literal::new(status_in(statuses)));
        }
        if let Some(text) = self.customer_email_contains {
            query = query.filter(orders::customer_email.ilike(contains_pattern(text)));
        }
        match &self.after {
            None => {}
            Some(OrderKey::CreatedAt(created_at, id)) => {
                query = query.filter(RowComparison::new(
                    "(orders.created_at, orders.id)",
                    self.descending,
                    created_at.into_sql::<Timestamptz>(),
                    id.into_sql::<SqlUuid>(),
                ));
            }
            Some(OrderKey::Total(total, id)) => {
                query = query.filter(RowComparison::new(
                    "(orders.total, orders.id)",
                    self.descending,
                    total.into_sql::<Numeric>(),
                    id.into_sql::<SqlUuid>(),
                ));
            }
        }
        query = match (self.sort, self.descending) {
            (OrderSort::CreatedAt, true) => {
                query.order((orders::created_at.desc(), orders::id.desc()))
            }
            (OrderSort::CreatedAt, false) => {
                query.order((orders::created_at.asc(), orders::id.asc()))
            }
            (OrderSort::Total, true) => query.order((orders::total.desc(), orders::id.desc())),
            (OrderSort::Total, false) => query.order((orders::total.asc(), orders::id.asc())),
        };
        query.limit(self.limit)
    }
}
