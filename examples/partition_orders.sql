-- The evaluation of partitioning `orders` by month (issue 6; the platform
-- guide's `create_monthly_partitions`): a copy of `orders` in the schema
-- `partitioned`, one partition per month of `created_at`, with the same
-- secondary indexes. `examples/index_plans` then runs every statement on
-- both layouts (`search_path` picks the table; the statements name it
-- unqualified) and prints the two timings side by side.
--
--   psql "$DATABASE_URL" -f examples/partition_orders.sql
--
-- The key is `created_at`, not the guide's `confirmed_at`: that one is null
-- until an order is confirmed and would move rows between partitions when
-- it is set; `created_at` never changes. The primary key must include the
-- partition key, so `id` alone is no longer unique for the database, and
-- `order_items`, `shipments` and `invoices` could not keep their foreign
-- keys to `orders(id)`: the copy has none pointing at it.

\set ON_ERROR_STOP on
\timing on
SET TIME ZONE 'UTC';

BEGIN;
DROP SCHEMA IF EXISTS partitioned CASCADE;
CREATE SCHEMA partitioned;
CREATE TABLE partitioned.orders (LIKE public.orders INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY RANGE (created_at);
ALTER TABLE partitioned.orders ADD PRIMARY KEY (id, created_at);

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
            'CREATE TABLE partitioned.%I PARTITION OF partitioned.orders FOR VALUES FROM (%L) TO (%L)',
            'orders_' || to_char(month, 'YYYY_MM'), month, month + interval '1 month');
    END LOOP;
END $$;

INSERT INTO partitioned.orders SELECT * FROM public.orders;

CREATE INDEX orders_tenant_created_idx ON partitioned.orders (tenant_id, created_at DESC, id DESC);
CREATE INDEX orders_tenant_total_idx ON partitioned.orders (tenant_id, total DESC, id DESC);
CREATE INDEX idx_orders_list_covering ON partitioned.orders (tenant_id, status, confirmed_at DESC)
    INCLUDE (bl_order_id, external_order_no, total, currency, customer_email);
CREATE INDEX idx_orders_pending ON partitioned.orders (tenant_id, created_at DESC)
    WHERE status IN ('PENDING', 'PROCESSING');
CREATE INDEX idx_orders_email_trgm ON partitioned.orders USING gin (customer_email gin_trgm_ops);
COMMIT;

VACUUM ANALYZE partitioned.orders;
