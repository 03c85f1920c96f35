//! The query root: lookups by id, the orders and shipments connections, and
//! the dashboard's statistics.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, InputObject, Object};

use crate::auth::Role;
use crate::dashboard::{Dashboard, Read};
use crate::db::models;
use crate::db::models::audit_log::AuditLogPage;
use crate::db::models::order::{OrderKey, OrderPage, OrderSort};
use crate::db::models::shipment::{ShipmentKey, ShipmentPage};
use crate::db::{OrderStatus, ShipmentStatus};
use crate::error::{AppError, gql};
use crate::graphql::audit_log::AuditLog;
use crate::graphql::connection;
use crate::graphql::context::RequestCtx;
use crate::graphql::cursor;
use crate::graphql::ids::{GlobalId, NodeKind};
use crate::graphql::loaders::Lookup;
use crate::graphql::node::{self, Node};
use crate::graphql::order::{self, Order};
use crate::graphql::order_stats::{DailyOrderStats, OrderStatusCount, ProductSales};
use crate::graphql::plain::Plain;
use crate::graphql::prefetch;
use crate::graphql::scalars::DateTime;
use crate::graphql::shipment::Shipment;
use crate::guard::cost;

/// The longest window `orderStats` computes: a year, leap day included.
pub const MAX_STATS_DAYS: i32 = 366;

/// The request's dashboard.
fn dashboard<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<Dashboard<'a>> {
    let request = RequestCtx::of(ctx)?;
    Ok(Dashboard {
        reads: &request.reads,
        cache: &request.cache,
        scope: request.scope(),
    })
}

/// Rows per page when `first` is not given.
const DEFAULT_PAGE_SIZE: i32 = 20;

pub struct QueryRoot;

/// Which orders to list; conditions combine with AND.
#[derive(InputObject, Default)]
pub struct OrderFilter {
    /// Orders in any of these statuses (null: any status; `[]`: none).
    pub status: Option<Vec<OrderStatus>>,
    /// Orders whose customer e-mail contains this text, ignoring case.
    pub customer_email_contains: Option<String>,
}

/// Which shipments to list; conditions combine with AND.
#[derive(InputObject, Default)]
pub struct ShipmentFilter {
    /// Only shipments not yet `DELIVERED`.
    #[graphql(default)]
    pub undelivered: bool,
    /// Only this carrier's shipments (exact name).
    pub carrier: Option<String>,
    /// Shipments in any of these statuses (null: any status).
    pub status: Option<Vec<ShipmentStatus>>,
    /// Shipped at or after this instant.
    pub shipped_from: Option<DateTime>,
    /// Shipped before this instant.
    pub shipped_until: Option<DateTime>,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum OrderOrderField {
    CreatedAt,
    Total,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum OrderDirection {
    Asc,
    Desc,
}

/// How to sort orders; ties are always broken by id, in the same direction.
#[derive(InputObject)]
pub struct OrderOrder {
    pub field: OrderOrderField,
    #[graphql(default_with = "OrderDirection::Desc")]
    pub direction: OrderDirection,
}

/// Which audit entries to list; conditions combine with AND.
#[derive(InputObject, Default)]
pub struct AuditLogFilter {
    /// Entries about this order or shipment.
    pub entity_id: Option<ID>,
    /// Entries of this action, e.g. `update_status`.
    pub action: Option<String>,
    /// Entries of writes that moved an order to this status.
    pub status_changed_to: Option<OrderStatus>,
}

pub type AuditLogConnection = Connection<String, AuditLog>;

/// Reads of your tenant's data. Every answer depends on your token, so HTTP
/// caches keep it for you alone (`Cache-Control: private`).
#[Object(cache_control(private))]
impl QueryRoot {
    /// The object with this global id, of any `Node` type; null when it does
    /// not exist in your tenant.
    // Rows change with every write: revalidate (ETag) on each use.
    #[graphql(cache_control(no_cache))]
    async fn node(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Node>> {
        let lookup = prefetch::root_lookup(ctx);
        // An order alone loads with its relations, as for `order(id:)`.
        match GlobalId::decode(&id) {
            Ok(global) if global.kind == NodeKind::Order && lookup == Lookup::AtOnce => {
                let ids = [global.id];
                let relations = prefetch::order_relations(ctx, ctx.look_ahead(), &ids);
                let (node, mut relations) =
                    futures_util::try_join!(node::load(ctx, &id, lookup), relations)?;
                Ok(node.map(|node| match node {
                    Node::Order(mut order) => {
                        order.loaded = relations.remove(&global.id).unwrap_or_default();
                        Node::Order(order)
                    }
                    other => other,
                }))
            }
            _ => node::load(ctx, &id, lookup).await,
        }
    }

    /// The order with this id; null when it does not exist in your tenant.
    // Rows change with every write: revalidate (ETag) on each use.
    #[graphql(cache_control(no_cache))]
    async fn order(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<Plain<Order>>> {
        let id = GlobalId::decode_as(&id, NodeKind::Order).map_err(gql)?;
        // Alone in its request, the order and its relations are all its
        // own: its row, items, shipments and invoices are read at once, in
        // one pipeline, rather than a loader delay or a round trip per
        // level (an id that names no order of the tenant costs the
        // relations' statements for nothing, and finds none). Beside other
        // lookups, the loaders gather everyone's keys into one batch.
        let lookup = prefetch::root_lookup(ctx);
        match lookup {
            Lookup::AtOnce => {
                let ids = [id];
                let relations = prefetch::order_relations(ctx, ctx.look_ahead(), &ids);
                let (order, mut relations) =
                    futures_util::try_join!(order::load(ctx, id, lookup), relations)?;
                Ok(order.map(|mut order| {
                    order.loaded = relations.remove(&id).unwrap_or_default();
                    Plain(order)
                }))
            }
            Lookup::Batched => Ok(order::load(ctx, id, lookup).await?.map(Plain)),
        }
    }

    /// Your tenant's orders, newest `createdAt` first unless `orderBy` says
    /// otherwise. Cursors stay valid while orders are added.
    // Rows change with every write: revalidate (ETag) on each use.
    #[graphql(
        cache_control(no_cache),
        complexity = "cost::page(__ctx, __variables_definition, __field, child_complexity)"
    )]
    async fn orders(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
        filter: Option<OrderFilter>,
        order_by: Option<OrderOrder>,
    ) -> async_graphql::Result<Plain<connection::Connection<Order>>> {
        let request = RequestCtx::of(ctx)?;
        let limit = cursor::page_size(first.unwrap_or(DEFAULT_PAGE_SIZE)).map_err(gql)?;
        let filter = filter.unwrap_or_default();
        let (sort, descending) = match order_by {
            None => (OrderSort::CreatedAt, true),
            Some(order) => (
                match order.field {
                    OrderOrderField::CreatedAt => OrderSort::CreatedAt,
                    OrderOrderField::Total => OrderSort::Total,
                },
                order.direction == OrderDirection::Desc,
            ),
        };
        let after_key = after
            .as_deref()
            .map(|after| cursor::decode_order(after, sort))
            .transpose()
            .map_err(gql)?;
        let page = OrderPage {
            statuses: filter.status.as_deref(),
            customer_email_contains: filter.customer_email_contains.as_deref(),
            sort,
            descending,
            after: after_key,
            // One more than asked tells whether there is a next page.
            limit: limit + 1,
        };
        let connection = request.reads.get().await.map_err(gql)?;
        let mut rows = models::Order::page(&connection, request.viewer.tenant, &page)
            .await
            .map_err(|error| gql(AppError::from(error)))?;
        drop(connection);

        let has_next_page = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let ids: Vec<_> = rows.iter().map(|row| row.id).collect();
        let node = ctx.look_ahead().field("edges").field("node");
        let mut relations = prefetch::order_relations(ctx, node, &ids).await?;
        let edges = rows
            .into_iter()
            .map(|row| connection::Edge {
                cursor: cursor::encode_order(&OrderKey::of(&row, sort)),
                node: Plain(Order {
                    loaded: relations.remove(&row.id).unwrap_or_default(),
                    row,
                }),
            })
            .collect();
        Ok(Plain(connection::Connection::new(
            edges,
            after.is_some(),
            has_next_page,
        )))
    }

    /// Your tenant's shipments, newest `createdAt` first (ties by id).
    // Rows change with every write: revalidate (ETag) on each use.
    #[graphql(
        cache_control(no_cache),
        complexity = "cost::page(__ctx, __variables_definition, __field, child_complexity)"
    )]
    async fn shipments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
        filter: Option<ShipmentFilter>,
    ) -> async_graphql::Result<Plain<connection::Connection<Shipment>>> {
        let request = RequestCtx::of(ctx)?;
        let limit = cursor::page_size(first.unwrap_or(DEFAULT_PAGE_SIZE)).map_err(gql)?;
        let filter = filter.unwrap_or_default();
        let after_key = after
            .as_deref()
            .map(cursor::decode_shipment)
            .transpose()
            .map_err(gql)?;
        let page = ShipmentPage {
            undelivered: filter.undelivered,
            carrier: filter.carrier.as_deref(),
            statuses: filter.status.as_deref(),
            shipped_from: filter.shipped_from.map(|instant| instant.0),
            shipped_until: filter.shipped_until.map(|instant| instant.0),
            after: after_key,
            limit: limit + 1,
        };
        let connection = request.reads.get().await.map_err(gql)?;
        let mut rows = models::Shipment::page(&connection, request.viewer.tenant, &page)
            .await
            .map_err(|error| gql(AppError::from(error)))?;
        drop(connection);

        let has_next_page = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let order_ids: Vec<_> = rows.iter().map(|row| row.order_id).collect();
        let node = ctx.look_ahead().field("edges").field("node");
        let orders = prefetch::shipment_orders(ctx, node, &order_ids).await?;
        let edges = rows
            .into_iter()
            .map(|row| connection::Edge {
                cursor: cursor::encode_shipment(ShipmentKey(row.created_at, row.id)),
                node: Plain(Shipment {
                    order: orders
                        .get(&row.order_id)
                        .map(|order| Box::new(Order::new(order.clone()))),
                    row,
                }),
            })
            .collect();
        Ok(Plain(connection::Connection::new(
            edges,
            after.is_some(),
            has_next_page,
        )))
    }

    /// Your tenant's audit feed, newest first: every write, who made it and
    /// what it changed. `ADMIN` only.
    // Rows change with every write: revalidate (ETag) on each use.
    #[graphql(
        cache_control(no_cache),
        complexity = "cost::page(__ctx, __variables_definition, __field, child_complexity)"
    )]
    async fn audit_logs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
        filter: Option<AuditLogFilter>,
    ) -> async_graphql::Result<AuditLogConnection> {
        let request = RequestCtx::of(ctx)?;
        if request.viewer.role != Role::Admin {
            return Err(gql(AppError::Forbidden(
                "the audit feed is for ADMIN tokens".into(),
            )));
        }
        let limit = cursor::page_size(first.unwrap_or(DEFAULT_PAGE_SIZE)).map_err(gql)?;
        let filter = filter.unwrap_or_default();
        let entity_id = filter
            .entity_id
            .as_ref()
            .map(|id| GlobalId::decode(id).map(|global| global.id))
            .transpose()
            .map_err(gql)?;
        let page = AuditLogPage {
            entity_id,
            action: filter.action.as_deref(),
            status_changed_to: filter.status_changed_to,
            before_id: after
                .as_deref()
                .map(cursor::decode_audit_log)
                .transpose()
                .map_err(gql)?,
            limit: limit + 1,
        };
        let connection = request.reads.get().await.map_err(gql)?;
        let mut rows = models::AuditLog::page(&connection, request.viewer.tenant, &page)
            .await
            .map_err(|error| gql(AppError::from(error)))?;
        drop(connection);

        let has_next_page = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let mut connection = Connection::new(after.is_some(), has_next_page);
        connection.edges.extend(
            rows.into_iter()
                .map(|row| Edge::new(cursor::encode_audit_log(row.id), AuditLog(row))),
        );
        Ok(connection)
    }

    /// The dashboard: one row per UTC day for today and the `days - 1` days
    /// before it, newest first, counting orders by the day of `confirmedAt`.
    // Dashboard figures: a minute old is fine.
    #[graphql(
        cache_control(max_age = 60),
        complexity = "cost::sized(__ctx, __variables_definition, __field, \"days\", MAX_STATS_DAYS as usize, child_complexity)"
    )]
    async fn order_stats(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Days in the window, 1 to 366.")] days: i32,
    ) -> async_graphql::Result<Vec<DailyOrderStats>> {
        if !(1..=MAX_STATS_DAYS).contains(&days) {
            return Err(gql(AppError::bad_input(format!(
                "`days` must be between 1 and {MAX_STATS_DAYS}, not {days}"
            ))));
        }
        let rows = dashboard(ctx)?
            .order_stats(days, Read::Cached)
            .await
            .map_err(gql)?;
        Ok(rows.into_iter().map(DailyOrderStats::from).collect())
    }

    /// How many of your orders are in each status (every status listed).
    // Dashboard figures: a minute old is fine.
    #[graphql(
        cache_control(max_age = 60),
        complexity = "cost::list(OrderStatus::ALL.len(), child_complexity)"
    )]
    async fn order_status_counts(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<OrderStatusCount>> {
        let counts = dashboard(ctx)?
            .status_counts(Read::Cached)
            .await
            .map_err(gql)?;
        Ok(counts
            .into_iter()
            .map(|(status, count)| OrderStatusCount { status, count })
            .collect())
    }

    /// The products on the most order items of the last `days` days, most
    /// first (products not in your catalogue are not ranked).
    // Dashboard figures: a minute old is fine.
    #[graphql(
        cache_control(max_age = 60),
        complexity = "cost::sized(__ctx, __variables_definition, __field, \"first\", cost::MAX_PAGE, child_complexity)"
    )]
    async fn top_products(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Days back from now, 1 to 366.", default = 7)] days: i32,
        #[graphql(desc = "How many products, 0 to 100.", default = 100)] first: i32,
    ) -> async_graphql::Result<Vec<ProductSales>> {
        if !(1..=MAX_STATS_DAYS).contains(&days) {
            return Err(gql(AppError::bad_input(format!(
                "`days` must be between 1 and {MAX_STATS_DAYS}, not {days}"
            ))));
        }
        cursor::page_size(first).map_err(gql)?;
        let rows = dashboard(ctx)?
            .top_products(days, first, Read::Cached)
            .await
            .map_err(gql)?;
        Ok(rows.into_iter().map(ProductSales).collect())
    }
}
