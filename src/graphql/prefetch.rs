//! Loading a page's relations up front, one statement each, for what the
//! selection asks of the page's nodes.
//!
//! Timer batching alone does not guarantee one batch per relation: async-graphql
//! resolves a list's items 32 at a time, yielding in between, so a page that
//! takes longer to resolve than the loader's delay (a loaded machine, a debug
//! build) splits its keys over several batches. Priming the request's loaders
//! from the connection makes a page's cost independent of its size and of
//! timing; each node then finds its relations in the loader's cache. The
//! page already holds every key, so the batches run at once, without the
//! loaders' delay.

use std::collections::HashSet;

use async_graphql::{Context, Lookahead};
use uuid::Uuid;

use crate::error::gql;
use crate::graphql::context::RequestCtx;
use crate::graphql::loaders::{Lookup, prime};

/// Primes what `node` (an `Order` selection) asks of these orders.
pub async fn order_relations(
    ctx: &Context<'_>,
    node: Lookahead<'_>,
    order_ids: &[Uuid],
) -> async_graphql::Result<()> {
    if order_ids.is_empty() {
        return Ok(());
    }
    let loaders = &RequestCtx::of(ctx)?.loaders;
    let ids = || order_ids.iter().copied();
    let items = async {
        if node.field("items").exists() {
            prime(&loaders.items_by_order, ids()).await.map(Some)
        } else {
            Ok(None)
        }
    };
    let shipments = async {
        if node.field("shipments").exists() {
            prime(&loaders.shipments_by_order, ids()).await?;
        }
        Ok(())
    };
    let invoices = async {
        if node.field("invoices").exists() {
            prime(&loaders.invoices_by_order, ids()).await?;
        }
        Ok(())
    };
    let (items, (), ()) = futures_util::try_join!(items, shipments, invoices).map_err(gql)?;
    if let Some(items) = items
        && node.field("items").field("product").exists()
    {
        let skus: HashSet<String> = items
            .values()
            .flatten()
            .map(|item| item.sku.clone())
            .collect();
        prime(&loaders.product_by_sku, skus).await.map_err(gql)?;
    }
    Ok(())
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

/// Primes the orders of shipments when `node` (a `Shipment` selection)
/// asks for them.
pub async fn shipment_orders(
    ctx: &Context<'_>,
    node: Lookahead<'_>,
    order_ids: &[Uuid],
) -> async_graphql::Result<()> {
    if order_ids.is_empty() || !node.field("order").exists() {
        return Ok(());
    }
    let loaders = &RequestCtx::of(ctx)?.loaders;
    prime(&loaders.order_by_id, order_ids.iter().copied())
        .await
        .map_err(gql)?;
    Ok(())
}
