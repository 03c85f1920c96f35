//! The data set itself: deterministic, realistic rows for each tenant and
//! day. The same tenant index, day and `now` always give the same rows;
//! counters (BaseLinker ids, invoice and tracking numbers) run across days,
//! so days are always generated in order.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

use crate::auth::Role;
use crate::db::{OrderStatus, ShipmentStatus};

/// Days of history: a year up to `now`.
pub const HISTORY_DAYS: u32 = 365;
const PRODUCTS_PER_TENANT: u32 = 150;

const TENANT_NAMES: [(&str, &str, &str); 12] = [
    ("demo", "Demo Outfitters", "EUR"),
    ("nordic-home", "Nordic Home", "EUR"),
    ("krakow-gear", "Kraków Gear", "PLN"),
    ("bristol-books", "Bristol Books", "GBP"),
    ("austin-audio", "Austin Audio", "USD"),
    ("lyon-lumiere", "Lyon Lumière", "EUR"),
    ("gdansk-garden", "Gdańsk Garden", "PLN"),
    ("porto-pets", "Porto Pets", "EUR"),
    ("leeds-lego", "Leeds Bricks", "GBP"),
    ("berlin-bikes", "Berlin Bikes", "EUR"),
    ("vienna-vinyl", "Vienna Vinyl", "EUR"),
    ("denver-denim", "Denver Denim", "USD"),
];
const ADJECTIVES: [&str; 16] = [
    "Classic",
    "Compact",
    "Deluxe",
    "Eco",
    "Essential",
    "Heavy-Duty",
    "Lightweight",
    "Mini",
    "Organic",
    "Premium",
    "Pro",
    "Rustic",
    "Smart",
    "Travel",
    "Vintage",
    "Wireless",
];
const NOUNS: [&str; 20] = [
    "Backpack",
    "Blender",
    "Candle",
    "Chair",
    "Desk Lamp",
    "Headphones",
    "Jacket",
    "Kettle",
    "Mug",
    "Notebook",
    "Pillow",
    "Planter",
    "Scarf",
    "Sneakers",
    "Speaker",
    "Tent",
    "Throw",
    "Tumbler",
    "Wallet",
    "Watch",
];
const FIRST_NAMES: [&str; 16] = [
    "anna", "ben", "clara", "david", "ella", "felix", "greta", "hugo", "ida", "jan", "kasia",
    "liam", "maja", "noah", "olga", "piotr",
];
const LAST_NAMES: [&str; 12] = [
    "nowak", "smith", "muller", "rossi", "dubois", "kowalski", "jensen", "garcia", "novak",
    "schmidt", "wilson", "lopez",
];
const MAIL_DOMAINS: [&str; 6] = [
    "gmail.com",
    "outlook.com",
    "proton.me",
    "yahoo.com",
    "web.de",
    "wp.pl",
];
const MARKETPLACES: [&str; 4] = ["AMZ", "ALG", "EBY", "SHP"];
const CARRIERS: [(&str, &str); 6] = [
    ("DHL", "JD"),
    ("DPD", "DP"),
    ("InPost", "IP"),
    ("UPS", "1Z"),
    ("GLS", "GL"),
    ("FedEx", "FX"),
];

pub struct TenantRow {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

pub struct UserRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub email: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

pub struct ProductRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub sku: String,
    pub name: String,
    pub price_cents: i64,
    pub created_at: DateTime<Utc>,
}

pub struct OrderRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub bl_order_id: Option<i64>,
    pub external_order_no: Option<String>,
    pub status: OrderStatus,
    pub total_cents: i64,
    pub currency: &'static str,
    pub customer_email: Option<String>,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

pub struct ItemRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub order_id: Uuid,
    pub sku: String,
    pub name: String,
    pub quantity: i32,
    pub unit_price_cents: i64,
    pub created_at: DateTime<Utc>,
}

pub struct ShipmentRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub order_id: Uuid,
    pub carrier: &'static str,
    pub tracking_no: String,
    pub status: ShipmentStatus,
    pub shipped_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

pub struct InvoiceRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub order_id: Uuid,
    pub number: String,
    pub total_cents: i64,
    pub currency: &'static str,
    pub issued_at: DateTime<Utc>,
}

/// A day's rows of one tenant.
#[derive(Default)]
pub struct DayRows {
    pub orders: Vec<OrderRow>,
    pub items: Vec<ItemRow>,
    pub shipments: Vec<ShipmentRow>,
    pub invoices: Vec<InvoiceRow>,
}

/// One tenant: its fixed rows, and the counters that run across its days.
pub struct TenantPlan {
    pub index: u32,
    pub tenant: TenantRow,
    pub users: Vec<UserRow>,
    pub products: Vec<ProductRow>,
    currency: &'static str,
    daily_orders: Vec<u32>,
    next_bl_order_id: i64,
    next_invoice: u32,
    next_tracking: u64,
}

fn rng_for(parts: &[u64]) -> ChaCha8Rng {
    // FNV-1a over the parts: a stable seed per (tenant, day, purpose).
    let mut seed: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.to_le_bytes() {
            seed ^= u64::from(byte);
            seed = seed.wrapping_mul(0x0100_0000_01b3);
        }
    }
    ChaCha8Rng::seed_from_u64(seed)
}

fn uuid_at(rng: &mut ChaCha8Rng, at: DateTime<Utc>) -> Uuid {
    // Time-ordered ids (UUIDv7): rows written in time order append to the
    // primary key's b-tree instead of splitting pages all over it.
    let random: [u8; 10] = rng.random();
    uuid::Builder::from_unix_timestamp_millis(at.timestamp_millis().max(0) as u64, &random)
        .into_uuid()
}

impl TenantPlan {
    /// Tenant `index` of a data set of `orders` orders per tenant ending
    /// at `now`.
    pub fn new(index: u32, orders: u32, now: DateTime<Utc>) -> Self {
        let mut rng = rng_for(&[u64::from(index), 0]);
        let (slug, name, currency) = match TENANT_NAMES.get(index as usize) {
            Some((slug, name, currency)) => ((*slug).to_owned(), (*name).to_owned(), *currency),
            None => (
                format!("tenant-{:04}", index + 1),
                format!("Tenant {}", index + 1),
                TENANT_NAMES[index as usize % TENANT_NAMES.len()].2,
            ),
        };
        let opened = day_start(first_day(now)) - Duration::days(30);
        let tenant = TenantRow {
            id: uuid_at(&mut rng, opened),
            slug: slug.clone(),
            name,
            created_at: opened,
        };
        let users = [Role::Admin, Role::Member, Role::Viewer]
            .into_iter()
            .map(|role| UserRow {
                id: uuid_at(&mut rng, opened),
                tenant_id: tenant.id,
                email: format!("{}@{slug}.example.com", role.as_str().to_ascii_lowercase()),
                role,
                created_at: opened,
            })
            .collect();
        let products = (0..PRODUCTS_PER_TENANT)
            .map(|number| ProductRow {
                id: uuid_at(&mut rng, opened),
                tenant_id: tenant.id,
                sku: format!("SKU-{:05}", number + 1),
                name: format!(
                    "{} {}",
                    ADJECTIVES[rng.random_range(0..ADJECTIVES.len())],
                    NOUNS[rng.random_range(0..NOUNS.len())]
                ),
                price_cents: rng.random_range(299..=49_999),
                created_at: opened,
            })
            .collect();
        Self {
            index,
            tenant,
            users,
            products,
            currency,
            daily_orders: daily_counts(index, orders),
            next_bl_order_id: 40_000_000 + i64::from(index) * 10_000_000,
            next_invoice: 1,
            next_tracking: 1,
        }
    }

    /// The rows of day `day` (0 is the oldest of the year). Must be called
    /// for days in order, once each.
    pub fn day(&mut self, day: u32, now: DateTime<Utc>) -> DayRows {
        let mut rng = rng_for(&[u64::from(self.index), u64::from(day) + 1]);
        let date = first_day(now) + Duration::days(i64::from(day));
        let start = day_start(date);
        // The last day ends now, not at midnight: no order is in the future.
        let span = (start + Duration::days(1)).min(now) - start;
        let span_ms = span.num_milliseconds().max(1);
        let mut times: Vec<DateTime<Utc>> = (0..self.daily_orders[day as usize])
            .map(|_| start + Duration::milliseconds(rng.random_range(0..span_ms)))
            .collect();
        times.sort();
        let mut rows = DayRows::default();
        for created_at in times {
            self.order(&mut rng, created_at, now, &mut rows);
        }
        rows
    }

    fn order(
        &mut self,
        rng: &mut ChaCha8Rng,
        created_at: DateTime<Utc>,
        now: DateTime<Utc>,
        rows: &mut DayRows,
    ) {
        let tenant_id = self.tenant.id;
        let id = uuid_at(rng, created_at);
        let age = now - created_at;
        let status = status_for_age(rng, age);
        let confirmed_at = match status {
            OrderStatus::Pending => None,
            OrderStatus::Cancelled if rng.random_bool(0.5) => None,
            _ => Some(created_at + Duration::minutes(rng.random_range(5..360))),
        }
        .map(|at| at.min(now));

        let item_count = *[1, 1, 1, 2, 2, 2, 3, 3, 4, 5]
            .get(rng.random_range(0..10))
            .unwrap_or(&1);
        let mut total_cents = 0;
        for _ in 0..item_count {
            let (sku, name, price_cents) = if rng.random_bool(0.04) {
                // Items synced from a marketplace listing that is not in
                // the catalogue: `product` is null for them.
                (
                    format!("LEGACY-{:04}", rng.random_range(1..5000)),
                    "Marketplace listing".to_owned(),
                    rng.random_range(500..9_999),
                )
            } else {
                let product = &self.products[rng.random_range(0..self.products.len())];
                (
                    product.sku.clone(),
                    product.name.clone(),
                    product.price_cents,
                )
            };
            let quantity = *[1, 1, 1, 1, 2, 2, 3]
                .get(rng.random_range(0..7))
                .unwrap_or(&1);
            total_cents += price_cents * i64::from(quantity);
            rows.items.push(ItemRow {
                id: uuid_at(rng, created_at),
                tenant_id,
                order_id: id,
                sku,
                name,
                quantity,
                unit_price_cents: price_cents,
                created_at,
            });
        }

        let mut updated_at = confirmed_at.unwrap_or(created_at);
        if let Some(confirmed) = confirmed_at {
            updated_at = updated_at.max(self.shipments(rng, id, status, confirmed, now, rows));
            if status != OrderStatus::Cancelled && rng.random_bool(0.95) {
                let issued_at = (confirmed + Duration::minutes(rng.random_range(1..120))).min(now);
                rows.invoices.push(InvoiceRow {
                    id: uuid_at(rng, issued_at),
                    tenant_id,
                    order_id: id,
                    number: format!("INV-{:02}-{:08}", self.index % 100, self.next_invoice),
                    total_cents,
                    currency: self.currency,
                    issued_at,
                });
                self.next_invoice += 1;
            }
        }
        if status == OrderStatus::Cancelled {
            updated_at = (updated_at + Duration::hours(rng.random_range(1..48))).min(now);
        }

        let marketplace = rng
            .random_bool(0.85)
            .then(|| MARKETPLACES[rng.random_range(0..MARKETPLACES.len())]);
        let bl_order_id = rng.random_bool(0.7).then(|| {
            self.next_bl_order_id += 1;
            self.next_bl_order_id
        });
        let customer_email = rng.random_bool(0.97).then(|| {
            // A small pool of customers, so that searches find several orders.
            format!(
                "{}.{}{}@{}",
                FIRST_NAMES[rng.random_range(0..FIRST_NAMES.len())],
                LAST_NAMES[rng.random_range(0..LAST_NAMES.len())],
                rng.random_range(1..400),
                MAIL_DOMAINS[rng.random_range(0..MAIL_DOMAINS.len())]
            )
        });
        rows.orders.push(OrderRow {
            id,
            tenant_id,
            bl_order_id,
            external_order_no: marketplace
                .map(|prefix| format!("{prefix}-{:010}", rng.random_range(0..10_000_000_000u64))),
            status,
            total_cents,
            currency: self.currency,
            customer_email,
            created_at,
            confirmed_at,
            updated_at,
        });
    }

    /// The order's parcels, consistent with its status; returns the last
    /// instant one of them changed.
    fn shipments(
        &mut self,
        rng: &mut ChaCha8Rng,
        order_id: Uuid,
        status: OrderStatus,
        confirmed: DateTime<Utc>,
        now: DateTime<Utc>,
        rows: &mut DayRows,
    ) -> DateTime<Utc> {
        let count = match status {
            OrderStatus::Pending | OrderStatus::Processing => 0,
            OrderStatus::Cancelled => usize::from(rng.random_bool(0.1)),
            _ => 1 + usize::from(rng.random_bool(0.15)),
        };
        let mut last_change = confirmed;
        for _ in 0..count {
            let (carrier, prefix) = CARRIERS[rng.random_range(0..CARRIERS.len())];
            let created_at = (confirmed + Duration::minutes(rng.random_range(30..1440))).min(now);
            let shipped_at = (created_at + Duration::minutes(rng.random_range(60..1440))).min(now);
            let delivered_at = (shipped_at + Duration::hours(rng.random_range(12..96))).min(now);
            let shipment_status = match status {
                OrderStatus::Packed => ShipmentStatus::LabelCreated,
                OrderStatus::Shipped if rng.random_bool(0.2) => ShipmentStatus::OutForDelivery,
                OrderStatus::Shipped if rng.random_bool(0.05) => ShipmentStatus::Exception,
                OrderStatus::Shipped => ShipmentStatus::InTransit,
                OrderStatus::Cancelled => ShipmentStatus::Returned,
                _ => ShipmentStatus::Delivered,
            };
            let (shipped, delivered) = match shipment_status {
                ShipmentStatus::LabelCreated => (None, None),
                ShipmentStatus::Delivered => (Some(shipped_at), Some(delivered_at)),
                _ => (Some(shipped_at), None),
            };
            last_change = last_change.max(delivered.or(shipped).unwrap_or(created_at));
            rows.shipments.push(ShipmentRow {
                id: uuid_at(rng, created_at),
                tenant_id: self.tenant.id,
                order_id,
                carrier,
                tracking_no: format!("{prefix}{:02}{:010}", self.index % 100, self.next_tracking),
                status: shipment_status,
                shipped_at: shipped,
                delivered_at: delivered,
                created_at,
            });
            self.next_tracking += 1;
        }
        last_change
    }
}

/// Older orders have finished their journey; recent ones are still on it.
fn status_for_age(rng: &mut ChaCha8Rng, age: Duration) -> OrderStatus {
    let roll: f64 = rng.random();
    let hours = age.num_hours();
    let table: &[(f64, OrderStatus)] = if hours < 6 {
        &[
            (0.55, OrderStatus::Pending),
            (0.9, OrderStatus::Processing),
            (1.0, OrderStatus::Cancelled),
        ]
    } else if hours < 48 {
        &[
            (0.15, OrderStatus::Pending),
            (0.45, OrderStatus::Processing),
            (0.75, OrderStatus::Packed),
            (0.95, OrderStatus::Shipped),
            (1.0, OrderStatus::Cancelled),
        ]
    } else if hours < 24 * 10 {
        &[
            (0.02, OrderStatus::Processing),
            (0.08, OrderStatus::Packed),
            (0.45, OrderStatus::Shipped),
            (0.94, OrderStatus::Delivered),
            (1.0, OrderStatus::Cancelled),
        ]
    } else {
        &[
            (0.005, OrderStatus::Shipped),
            (0.935, OrderStatus::Delivered),
            (1.0, OrderStatus::Cancelled),
        ]
    };
    table
        .iter()
        .find(|(upto, _)| roll < *upto)
        .map_or(OrderStatus::Delivered, |(_, status)| *status)
}

/// How many of the tenant's `orders` fall on each day: growing over the
/// year, quieter at weekends, a little noise; always summing to `orders`.
fn daily_counts(tenant_index: u32, orders: u32) -> Vec<u32> {
    let mut rng = rng_for(&[u64::from(tenant_index), u64::MAX]);
    let weights: Vec<f64> = (0..HISTORY_DAYS)
        .map(|day| {
            let growth = 1.0 + f64::from(day) / f64::from(HISTORY_DAYS);
            let weekend = if day % 7 >= 5 { 0.75 } else { 1.0 };
            growth * weekend * rng.random_range(0.8..1.2)
        })
        .collect();
    let sum: f64 = weights.iter().sum();
    let exact: Vec<f64> = weights
        .iter()
        .map(|w| w / sum * f64::from(orders))
        .collect();
    let mut counts: Vec<u32> = exact.iter().map(|x| x.floor() as u32).collect();
    // Largest remainders get the orders that flooring dropped.
    let mut remainders: Vec<(usize, f64)> =
        exact.iter().map(|x| x - x.floor()).enumerate().collect();
    remainders.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let missing = orders - counts.iter().sum::<u32>();
    for (day, _) in remainders.into_iter().take(missing as usize) {
        counts[day] += 1;
    }
    counts
}

fn first_day(now: DateTime<Utc>) -> NaiveDate {
    now.date_naive() - Duration::days(i64::from(HISTORY_DAYS) - 1)
}

fn day_start(date: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-11-25T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn daily_counts_sum_to_the_orders_asked_for() {
        for orders in [0, 1, 7, 365, 10_000] {
            assert_eq!(daily_counts(3, orders).iter().sum::<u32>(), orders);
        }
    }

    #[test]
    fn the_same_arguments_give_the_same_rows() {
        let generate = || {
            let mut plan = TenantPlan::new(1, 500, now());
            (0..HISTORY_DAYS)
                .flat_map(|day| plan.day(day, now()).orders)
                .map(|order| (order.id, order.total_cents, order.status, order.created_at))
                .collect::<Vec<_>>()
        };
        let first = generate();
        assert_eq!(first.len(), 500);
        assert_eq!(first, generate());
    }

    #[test]
    fn rows_are_consistent_and_never_in_the_future() {
        let mut plan = TenantPlan::new(0, 2_000, now());
        for day in 0..HISTORY_DAYS {
            let rows = plan.day(day, now());
            for order in &rows.orders {
                assert!(order.created_at <= now() && order.updated_at <= now());
                let items: i64 = rows
                    .items
                    .iter()
                    .filter(|item| item.order_id == order.id)
                    .map(|item| item.unit_price_cents * i64::from(item.quantity))
                    .sum();
                assert_eq!(items, order.total_cents);
                if order.status == OrderStatus::Pending {
                    assert!(order.confirmed_at.is_none());
                }
            }
            for shipment in &rows.shipments {
                assert!(shipment.created_at <= now());
                assert!(shipment.delivered_at.is_none_or(|at| at <= now()));
            }
        }
    }
}
