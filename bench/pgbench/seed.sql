-- Raw-SQL baseline data, in the service's own (migrated) schema: :nproducts products whose ids
-- are derived from 1..N so that pgbench scripts can name a row without a lookup, each with
-- :stock units on hand. Run with: psql -v nproducts=100 -v stock=100000000 -f seed.sql
INSERT INTO products (id, sku, name, price_amount, currency, created_at)
SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(n), 12, '0'))::uuid,
       'RAW-' || n, 'raw baseline ' || n, 1999, 'EUR', now()
FROM generate_series(1, :nproducts) AS n;

-- Every row at the default location (domain::LocationId::DEFAULT, made by the migrations).
INSERT INTO product_stock (product_id, location_id, on_hand, reserved, version, updated_at)
SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(n), 12, '0'))::uuid,
       '00000000-0000-0000-0000-000000000001', :stock, 0, 1, now()
FROM generate_series(1, :nproducts) AS n;
