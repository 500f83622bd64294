-- One hot product, the guarded single-statement reservation (its own transaction).
UPDATE product_stock SET reserved = reserved + 1, version = version + 1, updated_at = now()
  WHERE product_id = '00000000-0000-7000-8000-000000000001'
  AND location_id = '00000000-0000-0000-0000-000000000001' AND on_hand - reserved >= 1;
