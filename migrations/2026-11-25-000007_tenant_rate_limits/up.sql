-- Per-tenant rate limits, where a tenant's plan differs from the service's
-- default (RATE_LIMIT_TENANT_PER_MINUTE). Read by every instance at start
-- and every minute; set with `fulexo rate-limit`.
CREATE TABLE tenant_rate_limits (
    tenant_id uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    -- Cost units the tenant's tokens may spend together per minute.
    cost_per_minute bigint NOT NULL CHECK (cost_per_minute > 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE tenant_rate_limits IS 'A tenant''s own rate limit, in cost units per minute.';
