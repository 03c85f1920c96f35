//! Objects whose data is in memory are written as JSON at once
//! (`graphql::plain`), selections with fragments are resolved by
//! async-graphql itself. Both must answer the same selection with the same
//! data: each test writes one selection plainly and with a fragment at
//! every level, and compares the two answers, byte for byte where
//! async-graphql's own order of fields is the selection's (it places a
//! field that waited for a loader after the others).

use fulexo::auth::Role;
use fulexo::graphql::ids::{GlobalId, NodeKind};
use serde_json::{Value, json};

use crate::helpers::{DEMO, TestApp};

const ORDER: &str = "id blOrderId externalOrderNo status total currency customerEmail createdAt confirmedAt updatedAt";
const ITEM: &str = "id sku name quantity unitPrice createdAt";
const SHIPMENT: &str = "id carrier trackingNo status shippedAt deliveredAt createdAt";
const INVOICE: &str = "id number total currency issuedAt";

/// The fragments the reference selections spread.
fn fragments() -> String {
    format!(
        "fragment O on Order {{ {ORDER} }}
         fragment I on OrderItem {{ {ITEM} }}
         fragment S on Shipment {{ {SHIPMENT} }}
         fragment V on Invoice {{ {INVOICE} }}"
    )
}

/// The answer's body exactly as the service sent it.
async fn answer(app: &TestApp, token: &str, query: &str, variables: &Value) -> String {
    let response = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    assert!(!body.contains("\"errors\""), "{body}");
    body
}

/// Asserts that `plain` and `with_fragments` answer byte for byte the same.
async fn same_answer(app: &TestApp, plain: &str, with_fragments: &str, variables: Value) {
    let token = app.token(DEMO, Role::Member).await;
    let plain = answer(app, &token, plain, &variables).await;
    let reference = answer(app, &token, with_fragments, &variables).await;
    assert_eq!(plain, reference);
}

#[tokio::test]
async fn a_page_with_its_relations_answers_as_async_graphql_does() {
    let app = TestApp::spawn_with(&[("CACHE_ENABLED", "false")]).await;
    same_answer(
        &app,
        &format!(
            "{{ orders(first: 40) {{ edges {{ cursor node {{ __typename {ORDER}
                items {{ __typename {ITEM} }} shipments {{ {SHIPMENT} }} invoices {{ {INVOICE} }} }} }}
                pageInfo {{ hasNextPage endCursor }} }} }}"
        ),
        &format!(
            "{{ orders(first: 40) {{ edges {{ cursor node {{ __typename ...O
                items {{ __typename ...I }} shipments {{ ...S }} invoices {{ ...V }} }} }}
                pageInfo {{ hasNextPage endCursor }} }} }} {}",
            fragments()
        ),
        json!({}),
    )
    .await;
}

#[tokio::test]
async fn aliases_and_fields_selected_twice_merge_as_async_graphql_merges_them() {
    let app = TestApp::spawn_with(&[("CACHE_ENABLED", "false")]).await;
    // Merged, not the first selection's alone (an answer written as text
    // cannot be merged: such documents are answered without the plain
    // path).
    let token = app.token(DEMO, Role::Member).await;
    let merged = app
        .data(
            &token,
            "{ orders(first: 5) { edges { node { items { sku } items { name quantity } } } } }",
            json!({}),
        )
        .await;
    let item = &merged["orders"]["edges"][0]["node"]["items"][0];
    assert_eq!(
        item.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["sku", "name", "quantity"],
        "{merged}"
    );
    same_answer(
        &app,
        "{ orders(first: 25) { edges { node {
            id amount: total total id
            items { sku } items { name quantity } lines: items { unitPrice }
            shipments { carrier } } } } }",
        "{ orders(first: 25) { edges { node {
            ... on Order { id amount: total total id }
            items { ... on OrderItem { sku } } items { ... on OrderItem { name quantity } }
            lines: items { ... on OrderItem { unitPrice } }
            shipments { ... on Shipment { carrier } } } } } }",
        json!({}),
    )
    .await;
}

#[tokio::test]
async fn fields_that_still_load_resolve_beside_the_plain_ones() {
    // An item's and a shipment's `order` are read by a loader after the
    // page: the objects above them are left to async-graphql, the ones
    // below answer at once again.
    let app = TestApp::spawn_with(&[("CACHE_ENABLED", "false")]).await;
    let token = app.token(DEMO, Role::Member).await;
    let plain = "{ orders(first: 30) { edges { node {
        id items { sku product { sku name price } order { id status } }
        shipments { status order { externalOrderNo } } } } } }";
    let reference = "{ orders(first: 30) { edges { node { ... on Order {
        id items { ... on OrderItem { sku product { ... on Product { sku name price } }
            order { ... on Order { id status } } } }
        shipments { ... on Shipment { status order { ... on Order { externalOrderNo } } } } } } } } }";
    let plain: Value =
        serde_json::from_str(&answer(&app, &token, plain, &json!({})).await).unwrap();
    let reference: Value =
        serde_json::from_str(&answer(&app, &token, reference, &json!({})).await).unwrap();
    assert_eq!(plain, reference);
}

#[tokio::test]
async fn an_order_by_id_answers_as_async_graphql_does() {
    let app = TestApp::spawn_with(&[("CACHE_ENABLED", "false")]).await;
    let id = GlobalId::encode(NodeKind::Order, app.shipped_order(DEMO).await).0;
    same_answer(
        &app,
        &format!(
            "query($id: ID!) {{ order(id: $id) {{ {ORDER} items {{ {ITEM} product {{ id name }} }}
                shipments {{ {SHIPMENT} }} invoices {{ {INVOICE} }} }} }}"
        ),
        &format!(
            "query($id: ID!) {{ order(id: $id) {{ ...O items {{ ...I product {{ id name }} }}
                shipments {{ ...S }} invoices {{ ...V }} }} }} {}",
            fragments()
        ),
        json!({ "id": id }),
    )
    .await;
}

#[tokio::test]
async fn a_shipments_page_with_its_orders_answers_as_async_graphql_does() {
    let app = TestApp::spawn_with(&[("CACHE_ENABLED", "false")]).await;
    same_answer(
        &app,
        &format!(
            "{{ shipments(first: 40) {{ edges {{ cursor node {{ {SHIPMENT} order {{ {ORDER} }} }} }}
                pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} nodes {{ id }} }} }}"
        ),
        &format!(
            "{{ shipments(first: 40) {{ edges {{ cursor node {{ ...S order {{ ...O }} }} }}
                pageInfo {{ ... on PageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} }}
                nodes {{ ... on Shipment {{ id }} }} }} }}
             fragment O on Order {{ {ORDER} }}
             fragment S on Shipment {{ {SHIPMENT} }}"
        ),
        json!({}),
    )
    .await;
}
