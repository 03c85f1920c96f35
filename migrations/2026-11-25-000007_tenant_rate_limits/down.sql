DROP TABLE tenant_rate_limits;
