CREATE INDEX idx_orders_confirmed_brin ON orders USING brin (confirmed_at)
    WITH (pages_per_range = 128);
