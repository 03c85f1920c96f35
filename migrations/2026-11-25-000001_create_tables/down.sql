DROP TABLE audit_logs, invoices, shipments, order_items, orders, products, users, tenants;
DROP TYPE shipment_status, order_status;
