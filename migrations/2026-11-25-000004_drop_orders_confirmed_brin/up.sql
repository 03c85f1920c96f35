-- idx_orders_confirmed_brin served one query, the dashboard's orderStats,
-- and served it worst. Every query of the service filters on tenant_id; the
-- orders of all tenants share the same block ranges, so the BRIN index must
-- be ANDed with a scan of all of the tenant's entries and its lossy pages
-- rechecked. On 1,000,000 orders of 10 tenants (`fulexo seed --tenants 10
-- --orders 100000`), orderStats(days: 30) took 137 ms through it and 32 ms
-- as an index-only scan of idx_orders_list_covering (README, Indexes). With
-- that plan nothing reads this index, and every write still maintains it.
DROP INDEX idx_orders_confirmed_brin;
