-- The audit feed (`auditLogs`): a tenant's entries newest first, keyset on
-- id, and the history of one order or shipment.
CREATE INDEX audit_logs_tenant_id_idx ON audit_logs (tenant_id, id DESC);
CREATE INDEX audit_logs_tenant_entity_idx ON audit_logs (tenant_id, entity_id, id DESC);
