//! The dashboard's types: `DailyOrderStats`, `OrderStatusCount`, `ProductSales`.

use async_graphql::{Object, SimpleObject};

use crate::db::{OrderStatus, models};
use crate::graphql::product::Product;
use crate::graphql::scalars::{Date, Decimal};

/// Orders in one status.
#[derive(SimpleObject)]
pub struct OrderStatusCount {
    pub status: OrderStatus,
    pub count: i64,
}

/// A product and how often it sold in the window.
pub struct ProductSales(pub models::product::ProductSales);

#[Object]
impl ProductSales {
    async fn product(&self) -> Product {
        Product(self.0.product.clone())
    }

    /// Order items naming the product.
    async fn order_item_count(&self) -> i64 {
        self.0.order_items
    }

    /// Units sold.
    async fn quantity(&self) -> i64 {
        self.0.quantity
    }
}

/// Orders confirmed on one UTC day, with running figures over the window.
#[derive(SimpleObject)]
pub struct DailyOrderStats {
    pub day: Date,
    /// Orders whose `confirmedAt` falls on this day.
    pub order_count: i64,
    /// Sum of their totals (`"0.00"` on a day without orders).
    pub revenue: Decimal,
    /// Mean total; null on a day without orders.
    pub avg_order_value: Option<Decimal>,
    /// Median total (`percentile_cont(0.5)`); null on a day without orders.
    pub median_value: Option<Decimal>,
    /// Orders from the window's first day up to this one.
    pub cumulative_orders: i64,
    /// Mean `orderCount` of this day and the six before it, counting only
    /// days inside the window.
    #[graphql(name = "movingAvg7d")]
    pub moving_avg_7d: f64,
}

impl From<models::DailyOrderStats> for DailyOrderStats {
    fn from(row: models::DailyOrderStats) -> Self {
        Self {
            day: Date(row.day),
            order_count: row.order_count,
            revenue: row.revenue.into(),
            avg_order_value: row.avg_order_value.map(Decimal),
            median_value: row.median_value.map(Decimal),
            cumulative_orders: row.cumulative_orders,
            moving_avg_7d: row.moving_avg_7d,
        }
    }
}
