DROP INDEX shipments_tenant_carrier_tracking_key, shipments_tenant_created_idx,
    orders_tenant_total_idx, orders_tenant_created_idx, idx_users_email_hash,
    idx_audit_logs_changes_gin, idx_shipments_shipped_brin, idx_orders_confirmed_brin,
    idx_orders_email_trgm, idx_orders_list_covering, idx_shipments_undelivered,
    idx_orders_pending, invoices_order_id_idx, shipments_order_id_idx,
    order_items_order_id_idx;
