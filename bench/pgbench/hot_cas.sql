-- One hot product, the seed's read-version-then-compare-and-swap, no retry: a lost race simply
-- updates 0 rows. Successful sales are counted afterwards from the version column.
SELECT version AS v, reserved AS r FROM product_stock
  WHERE product_id = '00000000-0000-7000-8000-000000000001' \gset
UPDATE product_stock SET reserved = :r + 1, version = :v + 1, updated_at = now()
  WHERE product_id = '00000000-0000-7000-8000-000000000001' AND version = :v;
