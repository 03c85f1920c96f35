//! The PostgreSQL enums of the contract, shared by the rows and the GraphQL
//! schema (the names are the same in both).

use diesel_derive_enum::DbEnum;

/// Where an order is in its fulfilment.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    DbEnum,
    async_graphql::Enum,
    serde::Serialize,
    serde::Deserialize,
)]
#[ExistingTypePath = "crate::db::schema::sql_types::OrderStatus"]
#[DbValueStyle = "SCREAMING_SNAKE_CASE"]
pub enum OrderStatus {
    /// Received, not yet confirmed.
    Pending,
    /// Confirmed and being picked.
    Processing,
    /// Packed, waiting for the carrier.
    Packed,
    /// Handed to the carrier.
    Shipped,
    /// Received by the customer. Final.
    Delivered,
    /// Will not be fulfilled. Final.
    Cancelled,
}

impl OrderStatus {
    pub const ALL: [Self; 6] = [
        Self::Pending,
        Self::Processing,
        Self::Packed,
        Self::Shipped,
        Self::Delivered,
        Self::Cancelled,
    ];

    /// The moves an order may make: forward along fulfilment, or to
    /// `CANCELLED` before it has left the warehouse. Nothing leaves
    /// `DELIVERED` or `CANCELLED`.
    pub fn can_become(self, next: Self) -> bool {
        use OrderStatus::*;
        matches!(
            (self, next),
            (Pending, Processing | Cancelled)
                | (Processing, Packed | Cancelled)
                | (Packed, Shipped | Cancelled)
                | (Shipped, Delivered)
        )
    }

    /// The contract's spelling, as stored and as sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Processing => "PROCESSING",
            Self::Packed => "PACKED",
            Self::Shipped => "SHIPPED",
            Self::Delivered => "DELIVERED",
            Self::Cancelled => "CANCELLED",
        }
    }
}

/// Where a parcel is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    DbEnum,
    async_graphql::Enum,
    serde::Serialize,
    serde::Deserialize,
)]
#[ExistingTypePath = "crate::db::schema::sql_types::ShipmentStatus"]
#[DbValueStyle = "SCREAMING_SNAKE_CASE"]
pub enum ShipmentStatus {
    /// A label exists; the carrier does not have the parcel yet.
    LabelCreated,
    InTransit,
    OutForDelivery,
    Delivered,
    /// The carrier reported a problem.
    Exception,
    /// Sent back to the tenant.
    Returned,
}

impl ShipmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LabelCreated => "LABEL_CREATED",
            Self::InTransit => "IN_TRANSIT",
            Self::OutForDelivery => "OUT_FOR_DELIVERY",
            Self::Delivered => "DELIVERED",
            Self::Exception => "EXCEPTION",
            Self::Returned => "RETURNED",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::OrderStatus::*;

    #[test]
    fn final_statuses_never_move() {
        for next in super::OrderStatus::ALL {
            assert!(!Delivered.can_become(next), "DELIVERED -> {next:?}");
            assert!(!Cancelled.can_become(next), "CANCELLED -> {next:?}");
        }
    }

    #[test]
    fn orders_move_forward_only() {
        assert!(Pending.can_become(Processing));
        assert!(Shipped.can_become(Delivered));
        assert!(!Delivered.can_become(Pending));
        assert!(!Packed.can_become(Processing));
        assert!(!Shipped.can_become(Cancelled));
        assert!(!Pending.can_become(Pending));
    }
}
