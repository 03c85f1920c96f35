-- topProducts: a tenant's order items of the last days, index-only.
CREATE INDEX order_items_tenant_created_idx ON order_items (tenant_id, created_at)
    INCLUDE (sku, quantity);
