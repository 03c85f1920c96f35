-- The evaluation of partitioning `orders` (issue 6): two copies of
-- `orders`, each with the same secondary indexes, for `examples/index_plans`
-- to run every statement on (`search_path` picks the table: the statements
-- name it unqualified) beside the plain table.
--
-- * `by_month`: one partition per month of `created_at`, the platform
--   guide's `create_monthly_partitions`. The key is `created_at`, not the
--   guide's `confirmed_at`: that one is null until an order is confirmed
--   and would move rows between partitions when it is set.
-- * `by_tenant`: 16 hash partitions of `tenant_id`, so that a tenant's
--   statements read one partition and its smaller indexes.
--
--   psql "$DATABASE_URL" -f examples/partition_orders.sql
--
-- The primary key must include the partition key, so `id` alone is no
-- longer unique for the database, and `order_items`, `shipments` and
-- `invoices` could not keep their foreign keys to `orders(id)` as they are
-- (by tenant, they could reference `(tenant_id, id)`): the copies have none
-- pointing at them.

\set ON_ERROR_STOP on
\timing on
SET TIME ZONE 'UTC';

BEGIN;
DROP SCHEMA IF EXISTS partitioned CASCADE;
DROP SCHEMA IF EXISTS by_month CASCADE;
DROP SCHEMA IF EXISTS by_tenant CASCADE;
CREATE SCHEMA by_month;
CREATE SCHEMA by_tenant;

CREATE TABLE by_month.orders (LIKE public.orders INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY RANGE (created_at);
ALTER TABLE by_month.orders ADD PRIMARY KEY (id, created_at);
-- One partition per month the data covers, as the guide's function
-- creates them ahead.
DO $$
DECLARE
    month date;
BEGIN
    FOR month IN
        SELECT generate_series(date_trunc('month', min(created_at)),
                               date_trunc('month', max(created_at)),
                               interval '1 month')::date
        FROM public.orders
    LOOP
        EXECUTE format(
            'CREATE TABLE by_month.%I PARTITION OF by_month.orders FOR VALUES FROM (%L) TO (%L)',
            'orders_' || to_char(month, 'YYYY_MM'), month, month + interval '1 month');
    END LOOP;
END $$;

CREATE TABLE by_tenant.orders (LIKE public.orders INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY HASH (tenant_id);
ALTER TABLE by_tenant.orders ADD PRIMARY KEY (tenant_id, id);
DO $$
BEGIN
    FOR remainder IN 0..15 LOOP
        EXECUTE format(
            'CREATE TABLE by_tenant.%I PARTITION OF by_tenant.orders FOR VALUES WITH (MODULUS 16, REMAINDER %s)',
            'orders_h' || lpad(remainder::text, 2, '0'), remainder);
    END LOOP;
END $$;

INSERT INTO by_month.orders SELECT * FROM public.orders;
INSERT INTO by_tenant.orders SELECT * FROM public.orders;

DO $$
DECLARE
    layout text;
BEGIN
    FOREACH layout IN ARRAY ARRAY['by_month', 'by_tenant'] LOOP
        EXECUTE format('CREATE INDEX orders_tenant_created_idx ON %I.orders (tenant_id, created_at DESC, id DESC)', layout);
        EXECUTE format('CREATE INDEX orders_tenant_total_idx ON %I.orders (tenant_id, total DESC, id DESC)', layout);
        EXECUTE format('CREATE INDEX idx_orders_list_covering ON %I.orders (tenant_id, status, confirmed_at DESC) '
                       'INCLUDE (bl_order_id, external_order_no, total, currency, customer_email)', layout);
        EXECUTE format('CREATE INDEX idx_orders_pending ON %I.orders (tenant_id, created_at DESC) '
                       'WHERE status IN (''PENDING'', ''PROCESSING'')', layout);
        EXECUTE format('CREATE INDEX idx_orders_email_trgm ON %I.orders USING gin (customer_email gin_trgm_ops)', layout);
    END LOOP;
END $$;
COMMIT;

VACUUM ANALYZE by_month.orders;
VACUUM ANALYZE by_tenant.orders;
