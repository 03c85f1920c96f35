//! The mutation root. Each mutation runs in one transaction together with
//! its `audit_logs` row: either both are written or neither is.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::Utc;
use diesel_async::AsyncConnection;
use serde_json::json;
use uuid::Uuid;

use crate::cache::Tag;
use crate::db::models::audit_log::EntityType;
use crate::db::models::shipment::TRACKING_NUMBER_KEY;
use crate::db::models::{self, NewAuditLog};
use crate::db::{OrderStatus, ShipmentStatus};
use crate::error::{AppError, gql};
use crate::graphql::context::RequestCtx;
use crate::graphql::ids::{GlobalId, NodeKind};
use crate::graphql::order::Order;
use crate::graphql::shipment::Shipment;

/// Longest carrier name or tracking number accepted.
const MAX_LABEL_LENGTH: usize = 100;

pub struct MutationRoot;

#[derive(InputObject)]
pub struct UpdateOrderStatusInput {
    /// The order's id.
    pub id: ID,
    /// The status to move to. Orders move forward (`PENDING` → `PROCESSING`
    /// → `PACKED` → `SHIPPED` → `DELIVERED`), or to `CANCELLED` before
    /// they ship; nothing leaves `DELIVERED` or `CANCELLED`.
    pub status: OrderStatus,
}

#[derive(SimpleObject)]
pub struct UpdateOrderStatusPayload {
    /// The order as it is now.
    pub order: Order,
}

#[derive(InputObject)]
pub struct CreateShipmentInput {
    /// The order the parcel is for.
    pub order_id: ID,
    /// The carrier's name, e.g. `DHL`.
    pub carrier: String,
    /// The carrier's tracking number; must be new for this carrier in your
    /// tenant.
    pub tracking_no: String,
}

#[derive(SimpleObject)]
pub struct CreateShipmentPayload {
    /// The new shipment, with status `LABEL_CREATED`.
    pub shipment: Shipment,
}

#[Object]
impl MutationRoot {
    /// Moves an order to another status. Moving an order to the status it
    /// already has changes nothing.
    async fn update_order_status(
        &self,
        ctx: &Context<'_>,
        input: UpdateOrderStatusInput,
    ) -> async_graphql::Result<UpdateOrderStatusPayload> {
        let request = RequestCtx::of(ctx)?;
        let viewer = request.writer().map_err(gql)?;
        let order_id = GlobalId::decode_as(&input.id, NodeKind::Order).map_err(gql)?;
        let next = input.status;

        let mut connection = request.database.get().await.map_err(gql)?;
        let (order, changed) = connection
            .transaction(async |connection| {
                let tenant = viewer.tenant;
                let order = models::Order::find_for_update(connection, tenant, order_id)
                    .await?
                    .ok_or_else(|| no_order(&input.id))?;
                if order.status == next {
                    return Ok((order, false));
                }
                if !order.status.can_become(next) {
                    return Err(AppError::bad_input(format!(
                        "an order cannot move from {} to {}",
                        order.status.as_str(),
                        next.as_str()
                    )));
                }
                let now = Utc::now();
                // Leaving PENDING is the confirmation the dashboard counts.
                let confirmed_at = order.confirmed_at.or((order.status == OrderStatus::Pending
                    && next != OrderStatus::Cancelled)
                    .then_some(now));
                let updated = models::Order::update_status(
                    connection,
                    tenant,
                    order_id,
                    next,
                    confirmed_at,
                    now,
                )
                .await?;
                let (mut before, mut after) = (
                    json!({ "status": order.status.as_str() }),
                    json!({ "status": next.as_str() }),
                );
                if confirmed_at != order.confirmed_at {
                    before["confirmedAt"] = json!(order.confirmed_at);
                    after["confirmedAt"] = json!(confirmed_at);
                }
                NewAuditLog::new(
                    tenant,
                    EntityType::Order,
                    order_id,
                    "update_status",
                    before,
                    after,
                    viewer.user_id,
                )
                .insert(connection)
                .await?;
                Ok::<_, AppError>((updated, true))
            })
            .await
            .map_err(gql)?;
        drop(connection);
        if changed {
            request
                .business
                .order_processed("updateOrderStatus", order.status.as_str());
            // After the commit: a read that follows sees the write, on any
            // instance. The status counts and statistics move with it.
            request
                .cache
                .invalidate(viewer.tenant, &[Tag::Order(order_id), Tag::Aggregates])
                .await;
        }
        Ok(UpdateOrderStatusPayload {
            order: Order::new(order),
        })
    }

    /// Records a parcel for an order, with status `LABEL_CREATED`.
    async fn create_shipment(
        &self,
        ctx: &Context<'_>,
        input: CreateShipmentInput,
    ) -> async_graphql::Result<CreateShipmentPayload> {
        let request = RequestCtx::of(ctx)?;
        let viewer = request.writer().map_err(gql)?;
        let order_id = GlobalId::decode_as(&input.order_id, NodeKind::Order).map_err(gql)?;
        let carrier = label("carrier", &input.carrier).map_err(gql)?;
        let tracking_no = label("trackingNo", &input.tracking_no).map_err(gql)?;

        let mut connection = request.database.get().await.map_err(gql)?;
        let (shipment, order_status) = connection
            .transaction(async |connection| {
                let tenant = viewer.tenant;
                let order = models::Order::find_for_update(connection, tenant, order_id)
                    .await?
                    .ok_or_else(|| no_order(&input.order_id))?;
                if matches!(order.status, OrderStatus::Cancelled | OrderStatus::Delivered) {
                    return Err(AppError::bad_input(format!(
                        "the order is {}: it takes no new shipments",
                        order.status.as_str()
                    )));
                }
                let shipment = models::Shipment {
                    id: Uuid::now_v7(),
                    tenant_id: tenant.0,
                    order_id,
                    carrier: carrier.into(),
                    tracking_no: Some(tracking_no.into()),
                    status: ShipmentStatus::LabelCreated,
                    shipped_at: None,
                    delivered_at: None,
                    created_at: Utc::now(),
                }
                .insert(connection)
                .await
                .map_err(|error| match &error {
                    diesel::result::Error::DatabaseError(
                        diesel::result::DatabaseErrorKind::UniqueViolation,
                        info,
                    ) if info.constraint_name() == Some(TRACKING_NUMBER_KEY) => AppError::bad_input(format!(
                        "{carrier} tracking number `{tracking_no}` is already used by another shipment"
                    )),
                    _ => AppError::from(error),
                })?;
                let after = json!({
                    "orderId": order_id,
                    "carrier": shipment.carrier,
                    "trackingNo": shipment.tracking_no,
                    "status": shipment.status.as_str(),
                });
                NewAuditLog::new(tenant, EntityType::Shipment, shipment.id, "create", json!(null), after, viewer.user_id)
                    .insert(connection)
                    .await?;
                Ok::<_, AppError>((shipment, order.status))
            })
            .await
            .map_err(gql)?;
        drop(connection);
        request
            .business
            .order_processed("createShipment", order_status.as_str());
        request
            .cache
            .invalidate(viewer.tenant, &[Tag::Order(order_id)])
            .await;
        Ok(CreateShipmentPayload {
            shipment: Shipment::new(shipment),
        })
    }
}

fn no_order(id: &ID) -> AppError {
    AppError::bad_input(format!("there is no order with id `{}`", id.as_str()))
}

/// A carrier name or tracking number: trimmed, not empty, printable, short.
fn label<'a>(field: &str, value: &'a str) -> Result<&'a str, AppError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(AppError::bad_input(format!("`{field}` must not be empty")));
    }
    if value.chars().count() > MAX_LABEL_LENGTH {
        return Err(AppError::bad_input(format!(
            "`{field}` must be at most {MAX_LABEL_LENGTH} characters"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(AppError::bad_input(format!(
            "`{field}` must not contain control characters"
        )));
    }
    Ok(value)
}
