-- Indexes. Each one names the query that uses it; tests/api/indexes.rs
-- checks with EXPLAIN that the service's own queries do.

-- Contract (performance guide): the foreign keys the DataLoaders batch on,
-- `WHERE tenant_id = $1 AND order_id = ANY($2)` (src/db/models/*::for_orders).
CREATE INDEX order_items_order_id_idx ON order_items (order_id);
CREATE INDEX shipments_order_id_idx ON shipments (order_id);
CREATE INDEX invoices_order_id_idx ON invoices (order_id);

-- Contract: the orders list filtered to open orders (OrdersPage with
-- status [PENDING, PROCESSING]); the query repeats the predicate literally so
-- that the planner can prove it under a generic plan.
CREATE INDEX idx_orders_pending ON orders (tenant_id, created_at DESC)
    WHERE status IN ('PENDING', 'PROCESSING');

-- Contract: the carrier desk (UndeliveredShipments with a carrier).
CREATE INDEX idx_shipments_undelivered ON shipments (carrier, tracking_no)
    WHERE status <> 'DELIVERED';

-- Contract: orders of a tenant by status and confirmation day, readable
-- without touching the heap (orderStats; orderStatusCounts).
CREATE INDEX idx_orders_list_covering ON orders (tenant_id, status, confirmed_at DESC)
    INCLUDE (bl_order_id, external_order_no, total, currency, customer_email);

-- Contract: the support desk's substring search (SearchOrders,
-- `customer_email ILIKE '%q%'`).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX idx_orders_email_trgm ON orders USING gin (customer_email gin_trgm_ops);

-- Contract: time ranges over append-mostly tables, whose physical order
-- follows time, so a block range summary is a fraction of a b-tree's size.
CREATE INDEX idx_orders_confirmed_brin ON orders USING brin (confirmed_at)
    WITH (pages_per_range = 128);
CREATE INDEX idx_shipments_shipped_brin ON shipments USING brin (shipped_at)
    WITH (pages_per_range = 128);

-- Contract: audit queries by content (`changes @> '{"after": {...}}'`).
CREATE INDEX idx_audit_logs_changes_gin ON audit_logs USING gin (changes);

-- Contract: exact lookups of a user by e-mail (`fulexo token --email`).
CREATE INDEX idx_users_email_hash ON users USING hash (email);

-- Ours: the default order of the orders connection (newest createdAt first,
-- ties by id) and its keyset condition `(created_at, id) < ($cursor)`.
CREATE INDEX orders_tenant_created_idx ON orders (tenant_id, created_at DESC, id DESC);

-- Ours: the orders connection ordered by total.
CREATE INDEX orders_tenant_total_idx ON orders (tenant_id, total DESC, id DESC);

-- Ours: the shipments connection (newest createdAt first, ties by id).
CREATE INDEX shipments_tenant_created_idx ON shipments (tenant_id, created_at DESC, id DESC);

-- Ours: a carrier's tracking number names one parcel within a tenant.
-- createShipment relies on it to refuse duplicates without a race.
CREATE UNIQUE INDEX shipments_tenant_carrier_tracking_key
    ON shipments (tenant_id, carrier, tracking_no);
