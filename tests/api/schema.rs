//! The schemas stay what they claim to be: `schema.graphql` is the running
//! schema's SDL; `src/db/schema.rs` is what diesel generates from the
//! migrations; the migrations create the contract's tables, enums and
//! indexes; the vendored contract operations are the contract's.

use std::path::{Path, PathBuf};
use std::process::Command;

use secrecy::SecretString;

use crate::helpers::TestDatabase;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn schema_graphql_is_the_running_schemas_sdl() {
    let committed = std::fs::read_to_string(Path::new(ROOT).join("schema.graphql")).unwrap();
    let running = fulexo::graphql::sdl();
    assert!(
        committed == running,
        "schema.graphql differs from the running schema: regenerate it with \
         `cargo run --example print_schema > schema.graphql`"
    );
}

/// The diesel CLI: on PATH, or installed once under `target/tools`.
fn diesel_cli() -> PathBuf {
    if Command::new("diesel")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success())
    {
        return PathBuf::from("diesel");
    }
    let root = Path::new(ROOT).join("target/tools");
    let installed = root.join("bin/diesel");
    if !installed.exists() {
        eprintln!(
            "installing diesel_cli into {} (once; a few minutes)",
            root.display()
        );
        let status = Command::new(env!("CARGO"))
            .args([
                "install",
                "diesel_cli",
                "--version",
                "2.3.14",
                "--locked",
                "--no-default-features",
            ])
            .args(["--features", "postgres", "--root"])
            .arg(&root)
            .status()
            .expect("running cargo install");
        assert!(
            status.success(),
            "installing diesel_cli failed (it needs libpq-dev)"
        );
    }
    installed
}

#[tokio::test]
async fn diesel_schema_rs_matches_the_migrations() {
    let database = TestDatabase::empty().await;
    fulexo::db::migrations::run_pending(&SecretString::from(database.url.clone()))
        .await
        .unwrap();
    let output = Command::new(diesel_cli())
        .args(["print-schema", "--database-url", &database.url])
        .current_dir(ROOT)
        .output()
        .expect("running diesel print-schema");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let generated = String::from_utf8(output.stdout).unwrap();
    let committed = std::fs::read_to_string(Path::new(ROOT).join("src/db/schema.rs")).unwrap();
    assert!(
        generated == committed,
        "src/db/schema.rs has drifted from the migrations: regenerate it with \
         `diesel print-schema > src/db/schema.rs`\n--- generated ---\n{generated}"
    );
}

#[tokio::test]
async fn migrations_create_the_contracts_tables_and_enums() {
    let database = TestDatabase::empty().await;
    fulexo::db::migrations::run_pending(&SecretString::from(database.url.clone()))
        .await
        .unwrap();
    let sql = crate::helpers::client_for(&database.url).await;
    let columns: Vec<String> = sql
        .query(
            "SELECT table_name || '.' || column_name || ' ' ||
                    CASE WHEN data_type = 'USER-DEFINED' THEN udt_name
                         WHEN data_type = 'character' THEN 'char(' || character_maximum_length || ')'
                         WHEN data_type = 'numeric' THEN 'numeric(' || numeric_precision || ',' || numeric_scale || ')'
                         ELSE data_type END ||
                    CASE WHEN is_nullable = 'YES' THEN ' null' ELSE '' END
             FROM information_schema.columns
             WHERE table_schema = 'public'
               AND table_name IN ('tenants', 'users', 'products', 'orders', 'order_items', 'shipments', 'invoices', 'audit_logs')
             ORDER BY table_name, ordinal_position",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    let expected = [
        "audit_logs.id bigint",
        "audit_logs.tenant_id uuid",
        "audit_logs.entity_type text",
        "audit_logs.entity_id uuid",
        "audit_logs.action text",
        "audit_logs.changes jsonb",
        "audit_logs.actor_id uuid null",
        "audit_logs.created_at timestamp with time zone",
        "invoices.id uuid",
        "invoices.tenant_id uuid",
        "invoices.order_id uuid",
        "invoices.number text",
        "invoices.total numeric(12,2)",
        "invoices.currency char(3)",
        "invoices.issued_at timestamp with time zone",
        "order_items.id uuid",
        "order_items.tenant_id uuid",
        "order_items.order_id uuid",
        "order_items.sku text",
        "order_items.name text",
        "order_items.quantity integer",
        "order_items.unit_price numeric(12,2)",
        "order_items.created_at timestamp with time zone",
        "orders.id uuid",
        "orders.tenant_id uuid",
        "orders.bl_order_id bigint null",
        "orders.external_order_no text null",
        "orders.status order_status",
        "orders.total numeric(12,2)",
        "orders.currency char(3)",
        "orders.customer_email text null",
        "orders.created_at timestamp with time zone",
        "orders.confirmed_at timestamp with time zone null",
        "orders.updated_at timestamp with time zone",
        "products.id uuid",
        "products.tenant_id uuid",
        "products.sku text",
        "products.name text",
        "products.price numeric(12,2)",
        "products.created_at timestamp with time zone",
        "shipments.id uuid",
        "shipments.tenant_id uuid",
        "shipments.order_id uuid",
        "shipments.carrier text",
        "shipments.tracking_no text null",
        "shipments.status shipment_status",
        "shipments.shipped_at timestamp with time zone null",
        "shipments.delivered_at timestamp with time zone null",
        "shipments.created_at timestamp with time zone",
        "tenants.id uuid",
        "tenants.slug text",
        "tenants.name text",
        "tenants.created_at timestamp with time zone",
        "users.id uuid",
        "users.tenant_id uuid",
        "users.email text",
        "users.role text",
        "users.created_at timestamp with time zone",
    ];
    assert_eq!(columns, expected);

    let enums: Vec<String> = sql
        .query(
            "SELECT t.typname || ': ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
             FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(
        enums,
        [
            "order_status: PENDING,PROCESSING,PACKED,SHIPPED,DELIVERED,CANCELLED",
            "shipment_status: LABEL_CREATED,IN_TRANSIT,OUT_FOR_DELIVERY,DELIVERED,EXCEPTION,RETURNED",
        ]
    );
}

/// The contract's indexes, but for idx_orders_confirmed_brin, dropped with
/// its measured reason (see its migration and the README).
#[tokio::test]
async fn migrations_create_every_index_of_the_contract_but_the_one_dropped() {
    let database = TestDatabase::empty().await;
    fulexo::db::migrations::run_pending(&SecretString::from(database.url.clone()))
        .await
        .unwrap();
    let sql = crate::helpers::client_for(&database.url).await;
    let definition = |name: &'static str| {
        let sql = &sql;
        async move {
            sql.query_opt(
                "SELECT indexdef FROM pg_indexes WHERE indexname = $1",
                &[&name],
            )
            .await
            .unwrap()
            .map(|row| row.get::<_, String>(0))
            .unwrap_or_else(|| panic!("index {name} is missing"))
        }
    };
    for (name, expected) in [
        (
            "idx_shipments_shipped_brin",
            "USING brin (shipped_at) WITH (pages_per_range='128')",
        ),
        ("idx_audit_logs_changes_gin", "USING gin (changes)"),
        (
            "idx_orders_email_trgm",
            "USING gin (customer_email gin_trgm_ops)",
        ),
        (
            "idx_orders_pending",
            "(tenant_id, created_at DESC) WHERE (status = ANY (ARRAY['PENDING'::order_status, 'PROCESSING'::order_status]))",
        ),
        (
            "idx_shipments_undelivered",
            "(carrier, tracking_no) WHERE (status <> 'DELIVERED'::shipment_status)",
        ),
        (
            "idx_orders_list_covering",
            "(tenant_id, status, confirmed_at DESC) INCLUDE (bl_order_id, external_order_no, total, currency, customer_email)",
        ),
        ("idx_users_email_hash", "USING hash (email)"),
        ("order_items_order_id_idx", "USING btree (order_id)"),
        ("shipments_order_id_idx", "USING btree (order_id)"),
        ("invoices_order_id_idx", "USING btree (order_id)"),
    ] {
        let definition = definition(name).await;
        assert!(definition.contains(expected), "{name}: {definition}");
    }
    let dropped = sql
        .query_opt(
            "SELECT 1 FROM pg_indexes WHERE indexname = 'idx_orders_confirmed_brin'",
            &[],
        )
        .await
        .unwrap();
    assert!(dropped.is_none());
}

#[test]
fn the_vendored_contract_operations_are_the_contracts() {
    // The contract lives beside this repository (../shared); CI clones this
    // repository alone, so the tests read the copy in tests/contract.
    let contract = Path::new(ROOT).join("../shared/contract/operations");
    let vendored = Path::new(ROOT).join("tests/contract/operations");
    let Ok(entries) = std::fs::read_dir(&contract) else {
        eprintln!("../shared/contract is not beside this checkout: nothing to compare");
        return;
    };
    let mut compared = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        let copy = vendored.join(path.file_name().unwrap());
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            std::fs::read_to_string(&copy).unwrap_or_default(),
            "{} differs from the contract: copy it again",
            copy.display()
        );
        compared += 1;
    }
    assert_eq!(compared, std::fs::read_dir(&vendored).unwrap().count());
}
