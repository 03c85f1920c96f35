-- SearchOrders reads a page of the newest orders whose customer_email
-- contains a text. With the default statistics target the planner guesses
-- how many e-mails contain it from 100 histogram entries and, for a name
-- the support desk types (`ella.nowak`, in 483 of a tenant's 100,000
-- orders), guessed 10: it then intersected the trigram index's posting
-- lists for every tenant and sorted the matches, 20 ms. From 1,000 entries
-- it estimates 483 and walks the tenant's newest orders on
-- orders_tenant_created_idx until the page is full, 2 ms; a text in few
-- e-mails still goes to idx_orders_email_trgm (README, Indexes).
ALTER TABLE orders ALTER COLUMN customer_email SET STATISTICS 1000;
