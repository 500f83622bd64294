-- The transaction our checkout commits for a 3-line cart, in sorted row order: three guarded
-- stock updates, the order, its lines and three ledger rows, one commit. The order id is random.
-- Typed (::bigint) so that it runs with -M prepared, as our service runs its statements.
-- pgbench -M prepared -D nproducts=100 -f checkout3.sql
\set a random(1, :nproducts)
\set b random(1, :nproducts)
\set c random(1, :nproducts)
\set lo least(:a, :b, :c)
\set hi greatest(:a, :b, :c)
\set mid :a + :b + :c - :lo - :hi
\set o1 random(32768, 49151)
\set o2 random(1, 140737488355327)
BEGIN;
UPDATE product_stock SET reserved = reserved + 1, version = version + 1, updated_at = now()
  WHERE product_id = ('00000000-0000-7000-8000-' || lpad(to_hex(:lo::bigint), 12, '0'))::uuid
    AND location_id = '00000000-0000-0000-0000-000000000001' AND on_hand - reserved >= 1;
UPDATE product_stock SET reserved = reserved + 1, version = version + 1, updated_at = now()
  WHERE product_id = ('00000000-0000-7000-8000-' || lpad(to_hex(:mid::bigint), 12, '0'))::uuid
    AND location_id = '00000000-0000-0000-0000-000000000001' AND on_hand - reserved >= 1;
UPDATE product_stock SET reserved = reserved + 1, version = version + 1, updated_at = now()
  WHERE product_id = ('00000000-0000-7000-8000-' || lpad(to_hex(:hi::bigint), 12, '0'))::uuid
    AND location_id = '00000000-0000-0000-0000-000000000001' AND on_hand - reserved >= 1;
INSERT INTO orders (id, status, total_amount, currency, customer_id, created_at, expires_at, version)
  VALUES (('01900000-0000-7000-' || to_hex(:o1::bigint) || '-' || lpad(to_hex(:o2::bigint), 12, '0'))::uuid,
          'reserved', 5997, 'EUR', NULL, now(), now() + interval '15 minutes', 1);
INSERT INTO order_lines (order_id, product_id, quantity, unit_price_amount, currency)
  SELECT ('01900000-0000-7000-' || to_hex(:o1::bigint) || '-' || lpad(to_hex(:o2::bigint), 12, '0'))::uuid, ('00000000-0000-7000-8000-' || lpad(to_hex(n), 12, '0'))::uuid, 1, 1999, 'EUR'
  FROM (SELECT DISTINCT unnest(ARRAY[:lo::bigint, :mid::bigint, :hi::bigint]) AS n) AS lines;
INSERT INTO stock_movements (product_id, kind, on_hand_delta, reserved_delta, version, order_id, reason, at, location_id)
  SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(n), 12, '0'))::uuid, 'reserve', 0, 1, 2, ('01900000-0000-7000-' || to_hex(:o1::bigint) || '-' || lpad(to_hex(:o2::bigint), 12, '0'))::uuid, NULL, now(), '00000000-0000-0000-0000-000000000001'
  FROM unnest(ARRAY[:lo::bigint, :mid::bigint, :hi::bigint]) AS n;
COMMIT;
