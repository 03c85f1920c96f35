//! The request's DataLoaders: every relation and by-id lookup goes through
//! one of these, so that a page of 100 orders costs one statement per
//! relation, not one per order.
//!
//! They are built per request ([`Loaders::new`]) and carry the request's
//! tenant: a loader in schema data would be shared by every request, and its
//! batches would mix tenants. Each caches what it loaded for the rest of its
//! request, so that a connection can load a page's relations up front
//! (`graphql::prefetch`) and each node then finds its own there.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::marker::PhantomData;
use std::time::Duration;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use compact_str::CompactString;
use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cache::{Cache, CachePolicy, Tag};
use crate::db::TenantId;
use crate::db::models::{self, group_by};
use crate::db::reads::Reads;
use crate::error::{AppError, SharedError};

/// One batched query: all `keys` of a batch in one statement, confined to a
/// tenant. Keys without rows are left out of the answer.
pub trait BatchQuery: Send + Sync + 'static {
    type Key: Send + Sync + Hash + Eq + Clone + ToString + 'static;
    type Value: Send + Sync + Clone + Serialize + DeserializeOwned + 'static;

    /// How this query's values are cached across requests (`None`: they
    /// are not).
    const CACHE: Option<&'static CachePolicy> = None;

    /// What a key's value depends on, for invalidation.
    fn tags(_key: &Self::Key) -> Vec<Tag> {
        Vec::new()
    }

    fn run(
        connection: &AsyncPgConnection,
        tenant: TenantId,
        keys: &[Self::Key],
    ) -> impl Future<Output = QueryResult<HashMap<Self::Key, Self::Value>>> + Send;
}

/// A [`Loader`] running one [`BatchQuery`] for one tenant, through the
/// cache when the query has a policy.
pub struct TenantLoader<Q> {
    reads: Reads,
    cache: Cache,
    tenant: TenantId,
    query: PhantomData<fn() -> Q>,
}

impl<Q: BatchQuery> TenantLoader<Q> {
    async fn query(&self, keys: Vec<Q::Key>) -> Result<HashMap<Q::Key, Q::Value>, AppError> {
        let connection = self.reads.get().await?;
        Ok(Q::run(&connection, self.tenant, &keys).await?)
    }
}

impl<Q: BatchQuery> Loader<Q::Key> for TenantLoader<Q> {
    type Value = Q::Value;
    type Error = SharedError;

    async fn load(&self, keys: &[Q::Key]) -> Result<HashMap<Q::Key, Q::Value>, SharedError> {
        self.reads
            .database()
            .metrics()
            .batch(loader_name::<Q>(), keys.len());
        let loaded = match Q::CACHE {
            // Boxed: the cache's future holds its Redis round trips (11 kB),
            // and an unboxed one would make every future that holds a load
            // (a resolver's, a prefetch's three) that large, copied
            // whenever they move, cached or not.
            Some(policy) if self.cache.enabled() => {
                Box::pin(
                    self.cache
                        .load_many(policy, self.tenant, keys, Q::tags, |missing| {
                            self.query(missing)
                        }),
                )
                .await
            }
            _ => self.query(keys.to_vec()).await,
        };
        loaded.map_err(SharedError::from)
    }
}

/// A loader's label in `/metrics`: its query's type name.
fn loader_name<Q>() -> &'static str {
    let path = std::any::type_name::<Q>();
    path.rsplit("::").next().unwrap_or(path)
}

/// The cached by-id loads (`order`, `node`, `OrderItem.product`). Rows the
/// API never changes (items, shipments, invoices, products) live by TTL; an
/// order's row is invalidated by every write to it.
pub static ORDER_BY_ID: CachePolicy = CachePolicy {
    resolver: "order",
    ttl: None,
    per_role: false,
};
/// An order's items, shipments and invoices, tagged with the order: every
/// write of the API that changes them invalidates the order
/// (`createShipment` adds a shipment), so a cached `OrderDetail` reaches
/// no database at all.
pub static ITEMS_BY_ORDER: CachePolicy = CachePolicy {
    resolver: "orderItems",
    ttl: None,
    per_role: false,
};
pub static SHIPMENTS_BY_ORDER: CachePolicy = CachePolicy {
    resolver: "orderShipments",
    ttl: None,
    per_role: false,
};
pub static INVOICES_BY_ORDER: CachePolicy = CachePolicy {
    resolver: "orderInvoices",
    ttl: None,
    per_role: false,
};
pub static PRODUCT_BY_SKU: CachePolicy = CachePolicy {
    resolver: "productBySku",
    ttl: None,
    per_role: false,
};
pub static ORDER_ITEM_BY_ID: CachePolicy = CachePolicy {
    resolver: "orderItem",
    ttl: None,
    per_role: false,
};
pub static SHIPMENT_BY_ID: CachePolicy = CachePolicy {
    resolver: "shipment",
    ttl: None,
    per_role: false,
};
pub static INVOICE_BY_ID: CachePolicy = CachePolicy {
    resolver: "invoice",
    ttl: None,
    per_role: false,
};
pub static PRODUCT_BY_ID: CachePolicy = CachePolicy {
    resolver: "product",
    ttl: None,
    per_role: false,
};

/// Orders by id (`order`, `node`, and every `.order` relation).
pub struct OrderById;
/// The items of each order.
pub struct ItemsByOrder;
/// The shipments of each order.
pub struct ShipmentsByOrder;
/// The invoices of each order.
pub struct InvoicesByOrder;
/// Products by SKU (`OrderItem.product`).
pub struct ProductBySku;
pub struct OrderItemById;
pub struct ShipmentById;
pub struct InvoiceById;
pub struct ProductById;

fn by_id<T>(rows: Vec<T>, id: impl Fn(&T) -> Uuid) -> HashMap<Uuid, T> {
    rows.into_iter().map(|row| (id(&row), row)).collect()
}

/// An answer for every key, empty where there are no rows: the cache then
/// remembers "none" too, instead of asking again.
fn for_every_key<K: Hash + Eq + Clone, V: Default>(
    keys: &[K],
    mut found: HashMap<K, V>,
) -> HashMap<K, V> {
    for key in keys {
        found.entry(key.clone()).or_default();
    }
    found
}

impl BatchQuery for OrderById {
    type Key = Uuid;
    type Value = models::Order;
    const CACHE: Option<&'static CachePolicy> = Some(&ORDER_BY_ID);

    fn tags(id: &Uuid) -> Vec<Tag> {
        vec![Tag::Order(*id)]
    }

    async fn run(
        connection: &AsyncPgConnection,
        tenant: TenantId,
        ids: &[Uuid],
    ) -> QueryResult<HashMap<Uuid, models::Order>> {
        let rows = models::Order::find_by_ids(connection, tenant, ids).await?;
        Ok(by_id(rows, |order| order.id))
    }
}

impl BatchQuery for ItemsByOrder {
    type Key = Uuid;
    type Value = Vec<models::OrderItem>;
    const CACHE: Option<&'static CachePolicy> = Some(&ITEMS_BY_ORDER);

    fn tags(order_id: &Uuid) -> Vec<Tag> {
        vec![Tag::Order(*order_id)]
    }

    async fn run(
        connection: &AsyncPgConnection,
        tenant: TenantId,
        order_ids: &[Uuid],
    ) -> QueryResult<HashMap<Uuid, Self::Value>> {
        let rows = models::OrderItem::for_orders(connection, tenant, order_ids).await?;
        Ok(for_every_key(
            order_ids,
            group_by(rows, |item| item.order_id),
        ))
    }
}

impl BatchQuery for ShipmentsByOrder {
    type Key = Uuid;
    type Value = Vec<models::Shipment>;
    const CACHE: Option<&'static CachePolicy> = Some(&SHIPMENTS_BY_ORDER);

    fn tags(order_id: &Uuid) -> Vec<Tag> {
        vec![Tag::Order(*order_id)]
    }

    async fn run(
        connection: &AsyncPgConnection,
        tenant: TenantId,
        order_ids: &[Uuid],
    ) -> QueryResult<HashMap<Uuid, Self::Value>> {
        let rows = models::Shipment::for_orders(connection, tenant, order_ids).await?;
        Ok(for_every_key(
            order_ids,
            group_by(rows, |shipment| shipment.order_id),
        ))
    }
}

impl BatchQuery for InvoicesByOrder {
    type Key = Uuid;
    type Value = Vec<models::Invoice>;
    const CACHE: Option<&'static CachePolicy> = Some(&INVOICES_BY_ORDER);

    fn tags(order_id: &Uuid) -> Vec<Tag> {
        vec![Tag::Order(*order_id)]
    }

    async fn run(
        connection: &AsyncPgConnection,
        tenant: TenantId,
        order_ids: &[Uuid],
    ) -> QueryResult<HashMap<Uuid, Self::Value>> {
        let rows = models::Invoice::for_orders(connection, tenant, order_ids).await?;
        Ok(for_every_key(
            order_ids,
            group_by(rows, |invoice| invoice.order_id),
        ))
    }
}

impl BatchQuery for ProductBySku {
    type Key = CompactString;
    /// `None`: no product has this SKU (remembered like a found one).
    type Value = Option<models::Product>;
    const CACHE: Option<&'static CachePolicy> = Some(&PRODUCT_BY_SKU);

    fn tags(sku: &CompactString) -> Vec<Tag> {
        vec![Tag::Product(sku.to_string())]
    }

    async fn run(
        connection: &AsyncPgConnection,
        tenant: TenantId,
        skus: &[CompactString],
    ) -> QueryResult<HashMap<CompactString, Self::Value>> {
        let rows = models::Product::find_by_skus(connection, tenant, skus).await?;
        let found = rows
            .into_iter()
            .map(|product| (product.sku.clone(), Some(product)))
            .collect();
        Ok(for_every_key(skus, found))
    }
}

impl BatchQuery for OrderItemById {
    type Key = Uuid;
    type Value = models::OrderItem;
    const CACHE: Option<&'static CachePolicy> = Some(&ORDER_ITEM_BY_ID);

    async fn run(
        connection: &AsyncPgConnection,
        tenant: TenantId,
        ids: &[Uuid],
    ) -> QueryResult<HashMap<Uuid, models::OrderItem>> {
        let rows = models::OrderItem::find_by_ids(connection, tenant, ids).await?;
        Ok(by_id(rows, |item| item.id))
    }
}

impl BatchQuery for ShipmentById {
    type Key = Uuid;
    type Value = models::Shipment;
    const CACHE: Option<&'static CachePolicy> = Some(&SHIPMENT_BY_ID);

    async fn run(
        connection: &AsyncPgConnection,
        tenant: TenantId,
        ids: &[Uuid],
    ) -> QueryResult<HashMap<Uuid, models::Shipment>> {
        let rows = models::Shipment::find_by_ids(connection, tenant, ids).await?;
        Ok(by_id(rows, |shipment| shipment.id))
    }
}

impl BatchQuery for InvoiceById {
    type Key = Uuid;
    type Value = models::Invoice;
    const CACHE: Option<&'static CachePolicy> = Some(&INVOICE_BY_ID);

    async fn run(
        connection: &AsyncPgConnection,
        tenant: TenantId,
        ids: &[Uuid],
    ) -> QueryResult<HashMap<Uuid, models::Invoice>> {
        let rows = models::Invoice::find_by_ids(connection, tenant, ids).await?;
        Ok(by_id(rows, |invoice| invoice.id))
    }
}

impl BatchQuery for ProductById {
    type Key = Uuid;
    type Value = models::Product;
    const CACHE: Option<&'static CachePolicy> = Some(&PRODUCT_BY_ID);

    async fn run(
        connection: &AsyncPgConnection,
        tenant: TenantId,
        ids: &[Uuid],
    ) -> QueryResult<HashMap<Uuid, models::Product>> {
        let rows = models::Product::find_by_ids(connection, tenant, ids).await?;
        Ok(by_id(rows, |product| product.id))
    }
}

/// A request's loader for one batched query.
pub type RequestLoader<Q> = DataLoader<TenantLoader<Q>, HashMapCache>;

/// Loads `keys` as one batch at once, without waiting out the loader's
/// delay (the caller already holds the whole batch), and leaves the values
/// in the request's loader cache, where each node then finds its own.
pub async fn prime<Q: BatchQuery>(
    loader: &RequestLoader<Q>,
    keys: impl IntoIterator<Item = Q::Key>,
) -> Result<HashMap<Q::Key, Q::Value>, SharedError> {
    let keys: Vec<Q::Key> = keys
        .into_iter()
        .collect::<std::collections::HashSet<_>>()
        .into_iter()
        .collect();
    let values = loader.loader().load(&keys).await?;
    loader
        .feed_many(
            values
                .iter()
                .map(|(key, value)| (key.clone(), value.clone())),
        )
        .await;
    Ok(values)
}

/// How a by-id lookup reaches the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Through the loader's batch window: the other lookups of the
    /// request's level share its statement.
    Batched,
    /// At once: nothing else in the request can join its batch (it is
    /// alone at the operation's root), so waiting out the delay buys nothing.
    AtOnce,
}

/// One key's value, by `lookup`; either way it stays in the request's
/// loader cache.
pub async fn load_one<Q: BatchQuery>(
    loader: &RequestLoader<Q>,
    key: Q::Key,
    lookup: Lookup,
) -> Result<Option<Q::Value>, SharedError> {
    match lookup {
        Lookup::Batched => loader.load_one(key).await,
        Lookup::AtOnce => Ok(prime(loader, [key.clone()]).await?.remove(&key)),
    }
}

/// All loaders of one request.
pub struct Loaders {
    pub order_by_id: RequestLoader<OrderById>,
    pub items_by_order: RequestLoader<ItemsByOrder>,
    pub shipments_by_order: RequestLoader<ShipmentsByOrder>,
    pub invoices_by_order: RequestLoader<InvoicesByOrder>,
    pub product_by_sku: RequestLoader<ProductBySku>,
    pub order_item_by_id: RequestLoader<OrderItemById>,
    pub shipment_by_id: RequestLoader<ShipmentById>,
    pub invoice_by_id: RequestLoader<InvoiceById>,
    pub product_by_id: RequestLoader<ProductById>,
}

impl Loaders {
    /// Fresh loaders for one request of `tenant`, reading through `reads`;
    /// each gathers keys for `delay` before sending its batch.
    pub fn new(reads: &Reads, cache: &Cache, tenant: TenantId, delay: Duration) -> Self {
        fn loader<Q: BatchQuery>(
            reads: &Reads,
            cache: &Cache,
            tenant: TenantId,
            delay: Duration,
        ) -> RequestLoader<Q> {
            let loader = TenantLoader {
                reads: reads.clone(),
                cache: cache.clone(),
                tenant,
                query: PhantomData,
            };
            DataLoader::with_cache(loader, tokio::spawn, HashMapCache::default()).delay(delay)
        }
        Self {
            order_by_id: loader(reads, cache, tenant, delay),
            items_by_order: loader(reads, cache, tenant, delay),
            shipments_by_order: loader(reads, cache, tenant, delay),
            invoices_by_order: loader(reads, cache, tenant, delay),
            product_by_sku: loader(reads, cache, tenant, delay),
            order_item_by_id: loader(reads, cache, tenant, delay),
            shipment_by_id: loader(reads, cache, tenant, delay),
            invoice_by_id: loader(reads, cache, tenant, delay),
            product_by_id: loader(reads, cache, tenant, delay),
        }
    }
}
