-- The tables of ../shared/contract/data-model.md. Names are fixed by the
-- contract: reports, load tests and other tools read them.
--
-- Every tenant-owned table carries tenant_id so that every query can filter
-- on it, and so that the data can later be distributed by tenant (Citus).

CREATE TYPE order_status AS ENUM (
    'PENDING', 'PROCESSING', 'PACKED', 'SHIPPED', 'DELIVERED', 'CANCELLED'
);

CREATE TYPE shipment_status AS ENUM (
    'LABEL_CREATED', 'IN_TRANSIT', 'OUT_FOR_DELIVERY', 'DELIVERED', 'EXCEPTION', 'RETURNED'
);

CREATE TABLE tenants (
    id uuid PRIMARY KEY,
    slug text NOT NULL UNIQUE,
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE tenants IS 'A merchant using the platform; owns every other row.';

CREATE TABLE users (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    email text NOT NULL,
    role text NOT NULL CHECK (role IN ('ADMIN', 'MEMBER', 'VIEWER')),
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE users IS 'A person acting for a tenant; the `sub` of a token.';

CREATE TABLE products (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    sku text NOT NULL,
    name text NOT NULL,
    price numeric(12, 2) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, sku)
);
COMMENT ON TABLE products IS 'A tenant''s catalogue; order items join it by (tenant_id, sku).';

CREATE TABLE orders (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    bl_order_id bigint,
    external_order_no text,
    status order_status NOT NULL,
    total numeric(12, 2) NOT NULL,
    currency char(3) NOT NULL,
    customer_email text,
    created_at timestamptz NOT NULL DEFAULT now(),
    confirmed_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE orders IS 'An order synced from a marketplace.';
COMMENT ON COLUMN orders.bl_order_id IS 'The order''s id in BaseLinker, when it came from there.';
COMMENT ON COLUMN orders.confirmed_at IS 'When the order left PENDING; null until then. Dashboards count orders by this day.';

CREATE TABLE order_items (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    order_id uuid NOT NULL REFERENCES orders (id),
    sku text NOT NULL,
    name text NOT NULL,
    quantity integer NOT NULL CHECK (quantity > 0),
    unit_price numeric(12, 2) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE order_items IS 'A line of an order. Its sku may name no product.';

CREATE TABLE shipments (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    order_id uuid NOT NULL REFERENCES orders (id),
    carrier text NOT NULL,
    tracking_no text,
    status shipment_status NOT NULL,
    shipped_at timestamptz,
    delivered_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE shipments IS 'A parcel sent for an order.';

CREATE TABLE invoices (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    order_id uuid NOT NULL REFERENCES orders (id),
    number text NOT NULL,
    total numeric(12, 2) NOT NULL,
    currency char(3) NOT NULL,
    issued_at timestamptz NOT NULL,
    UNIQUE (tenant_id, number)
);
COMMENT ON TABLE invoices IS 'An invoice issued for an order.';

CREATE TABLE audit_logs (
    id bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
    tenant_id uuid NOT NULL,
    entity_type text NOT NULL,
    entity_id uuid NOT NULL,
    action text NOT NULL,
    changes jsonb NOT NULL,
    actor_id uuid,
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE audit_logs IS 'One row per write, in the same transaction as the write.';
COMMENT ON COLUMN audit_logs.changes IS '{"before": {...}, "after": {...}} of the fields that changed.';
