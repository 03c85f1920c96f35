//! Loading a page's relations up front, one statement each, for what the
//! selection asks of the page's nodes.
//!
//! Timer batching alone does not guarantee one batch per relation: async-graphql
//! resolves a list's items 32 at a time, yielding in between, so a page that
//! takes longer to resolve than the loader's delay (a loaded machine, a debug
//! build) splits its keys over several batches. Reading the relations from
//! the connection, through the loaders' batch queries, makes a page's cost
//! independent of its size and of timing; each node then carries its own
//! relations, which its fields answer from at once (`graphql::plain`). The
//! page already holds every key, so the batches run at once, without the
//! loaders' delay.

use std::collections::{HashMap, HashSet};

use async_graphql::dataloader::Loader;
use async_graphql::{Context, Lookahead};
use compact_str::CompactString;
use uuid::Uuid;

use crate::db::models;
use crate::error::{AppError, SharedError, gql};
use crate::graphql::context::RequestCtx;
use crate::graphql::invoice::Invoice;
use crate::graphql::loaders::{Lookup, prime};
use crate::graphql::order::Relations;
use crate::graphql::order_item::OrderItem;
use crate::graphql::plain::Plain;
use crate::graphql::product::Product;
use crate::graphql::shipment::Shipment;

/// Reads what `node` (an `Order` selection) asks of these orders' relations,
/// one statement per relation, all sent at once; each order's relations
/// come back to travel with the order, where its fields find them, the
/// items with their products when those are asked for.
pub async fn order_relations(
    ctx: &Context<'_>,
    node: Lookahead<'_>,
    order_ids: &[Uuid],
) -> async_graphql::Result<HashMap<Uuid, Relations>> {
    let mut relations: HashMap<Uuid, Relations> = order_ids
        .iter()
        .map(|id| (*id, Relations::default()))
        .collect();
    if order_ids.is_empty() {
        return Ok(relations);
    }
    let request = RequestCtx::of(ctx)?;
    let loaders = &request.loaders;
    let keys = &order_ids
        .iter()
        .copied()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect::<Vec<_>>();
    let read = |wanted: &str| node.field(wanted).exists();
    let items = async {
        match read("items") {
            true => loaders.items_by_order.loader().load(keys).await.map(Some),
            false => Ok(None),
        }
    };
    let shipments = async {
        match read("shipments") {
            true => loaders
                .shipments_by_order
                .loader()
                .load(keys)
                .await
                .map(Some),
            false => Ok(None),
        }
    };
    let invoices = async {
        match read("invoices") {
            true => loaders
                .invoices_by_order
                .loader()
                .load(keys)
                .await
                .map(Some),
            false => Ok(None),
        }
    };
    let with_products = read("items") && node.field("items").field("product").exists();
    // Without the resolver cache, which keeps products by SKU, the items'
    // products are read together with the items, their SKUs taken by a
    // subquery: an order detail is one round trip instead of two.
    let products_at_once = with_products && !request.cache.enabled();
    let products = async {
        if !products_at_once {
            return Ok(None);
        }
        let connection = request.reads.get().await?;
        let rows = models::Product::for_orders(&connection, request.viewer.tenant, keys).await;
        Ok::<_, SharedError>(Some(rows.map_err(AppError::from)?))
    };
    let (mut items, mut shipments, mut invoices, products) =
        futures_util::try_join!(items, shipments, invoices, products).map_err(gql)?;
    let mut products: Option<HashMap<CompactString, models::Product>> = products.map(|rows| {
        rows.into_iter()
            .map(|product| (product.sku.clone(), product))
            .collect()
    });
    if with_products
        && products.is_none()
        && let Some(items) = &items
    {
        let skus: HashSet<CompactString> = items
            .values()
            .flatten()
            .map(|item| item.sku.clone())
            .collect();
        let primed = prime(&loaders.product_by_sku, skus).await.map_err(gql)?;
        products = Some(
            primed
                .into_iter()
                .filter_map(|(sku, product)| Some((sku, product?)))
                .collect(),
        );
    }
    let item = |row: models::OrderItem| {
        let product = products
            .as_ref()
            .map(|products| products.get(&row.sku).cloned().map(Product));
        OrderItem { row, product }
    };
    for (id, order) in &mut relations {
        order.items = items.as_mut().map(|items| take(items, id, item));
        order.shipments = shipments
            .as_mut()
            .map(|loaded| take(loaded, id, Shipment::new));
        order.invoices = invoices.as_mut().map(|loaded| take(loaded, id, Invoice));
    }
    Ok(relations)
}

/// An order's rows of one relation, as their GraphQL objects.
fn take<R, T>(
    loaded: &mut HashMap<Uuid, Vec<R>>,
    order: &Uuid,
    object: impl Fn(R) -> T,
) -> Vec<Plain<T>> {
    loaded
        .remove(order)
        .map(|rows| rows.into_iter().map(|row| Plain(object(row))).collect())
        .unwrap_or_default()
}

/// How a root lookup loads: at once when it is the operation's only root
/// field (no other lookup can join its batch), else batched.
pub fn root_lookup(ctx: &Context<'_>) -> Lookup {
    if ctx.query_env.operation.node.selection_set.node.items.len() == 1 {
        Lookup::AtOnce
    } else {
        Lookup::Batched
    }
}

/// Reads the orders of these shipments when `node` (a `Shipment` selection)
/// asks for them, in one statement, to travel with each shipment.
pub async fn shipment_orders(
    ctx: &Context<'_>,
    node: Lookahead<'_>,
    order_ids: &[Uuid],
) -> async_graphql::Result<HashMap<Uuid, models::Order>> {
    if order_ids.is_empty() || !node.field("order").exists() {
        return Ok(HashMap::new());
    }
    let loaders = &RequestCtx::of(ctx)?.loaders;
    let keys: Vec<Uuid> = order_ids
        .iter()
        .copied()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    loaders.order_by_id.loader().load(&keys).await.map_err(gql)
}
