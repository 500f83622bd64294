#!/usr/bin/env python3
"""The fastest honest raw-SQL limit on SQLite: the statements of bench/raw-checkout (three guarded
stock updates in sorted order, the order, its three lines and three ledger rows, one commit; or
the hot product's single guarded update) sent through SQLite's C API by Python's sqlite3 module,
one writer looping until the deadline. SQLite has one writer at a time, so more writers would
only add lock waits: this is the ceiling for any number of clients. Same pragmas as the service
(WAL, synchronous=FULL), on a database the service's own migrations made.

    python3 bench/raw_sqlite.py DB --seconds 10 --scenario spread|hot --products N --json OUT

DB must be a freshly migrated file (`checkout-api --database-url sqlite://DB migrate`).
"""
import argparse
import json
import random
import sqlite3
import time
import uuid
from datetime import datetime, timedelta, timezone

ON_HAND = 100_000_000_000
# The default location (domain::LocationId::DEFAULT), made by the migrations. The service
# stores UUIDs as 16-byte blobs on SQLite.
LOCATION = uuid.UUID(int=1).bytes


def product_id(n):
    return uuid.UUID(f"00000000-0000-7000-8000-{n:012x}").bytes


def stamp(at):
    # The service's text form of a timestamp on SQLite.
    return at.isoformat()


def seed(db, products):
    now = stamp(datetime.now(timezone.utc))
    with db:
        for n in range(1, products + 1):
            db.execute("INSERT INTO products (id, sku, name, price_amount, currency, created_at) "
                       "VALUES (?, ?, ?, 1999, 'EUR', ?)", (product_id(n), f"RAW-{n}", f"raw {n}", now))
            db.execute("INSERT INTO product_stock (product_id, on_hand, reserved, version, updated_at, "
                       "location_id) VALUES (?, ?, 0, 1, ?, ?)", (product_id(n), ON_HAND, now, LOCATION))


def checkout(db, products):
    now = datetime.now(timezone.utc)
    at, expires = stamp(now), stamp(now + timedelta(minutes=15))
    ids = [product_id(n) for n in sorted(random.sample(range(1, products + 1), 3))]
    order = uuid.uuid4().bytes
    db.execute("BEGIN IMMEDIATE")
    versions = []
    for pid in ids:
        row = db.execute("UPDATE product_stock SET reserved = reserved + 1, version = version + 1, "
                         "updated_at = ? WHERE product_id = ? AND location_id = ? "
                         "AND on_hand - reserved >= 1 RETURNING version", (at, pid, LOCATION)).fetchone()
        versions.append(row[0])
    db.execute("INSERT INTO orders (id, status, total_amount, currency, customer_id, created_at, "
               "expires_at, version) VALUES (?, 'reserved', 5997, 'EUR', NULL, ?, ?, 1)",
               (order, at, expires))
    db.execute("INSERT INTO order_lines (order_id, product_id, quantity, unit_price_amount, currency) "
               "VALUES (?, ?, 1, 1999, 'EUR'), (?, ?, 1, 1999, 'EUR'), (?, ?, 1, 1999, 'EUR')",
               (order, ids[0], order, ids[1], order, ids[2]))
    db.execute("INSERT INTO stock_movements (product_id, kind, on_hand_delta, reserved_delta, version, "
               "order_id, reason, at, location_id) VALUES (?, 'reserve', 0, 1, ?, ?, NULL, ?, ?), "
               "(?, 'reserve', 0, 1, ?, ?, NULL, ?, ?), (?, 'reserve', 0, 1, ?, ?, NULL, ?, ?)",
               tuple(v for pid, version in zip(ids, versions) for v in (pid, version, order, at, LOCATION)))
    db.execute("COMMIT")


def service(db, products):
    """Every statement the service runs for one lone spread checkout on SQLite, as it sends them
    (bench/floor.sh's question: what the C API alone takes for our checkout): the stock and price
    read before the transaction, the three guarded UPDATEs with RETURNING, the event feed's
    sequence, the order, its lines, the ledger rows with their feed sequences."""
    now = datetime.now(timezone.utc)
    at, expires = stamp(now), stamp(now + timedelta(minutes=15))
    ids = [product_id(n) for n in sorted(random.sample(range(1, products + 1), 3))]
    order = uuid.uuid4().bytes
    db.execute(
        'SELECT "product_stock"."product_id", "product_stock"."location_id", "product_stock"."on_hand", '
        '"product_stock"."reserved", "product_stock"."safety_stock", "product_stock"."version", '
        '"product_stock"."max_per_order", "product_stock"."max_per_customer", "product_stock"."backorder_limit", '
        '"locations"."priority", "products"."price_amount", "products"."currency" FROM "product_stock" '
        'INNER JOIN "locations" ON "product_stock"."location_id" = "locations"."id" '
        'INNER JOIN "products" ON "product_stock"."product_id" = "products"."id" '
        'WHERE "product_stock"."product_id" IN (?, ?, ?) AND "locations"."active" = ?',
        (*ids, True)).fetchall()
    db.execute("BEGIN IMMEDIATE")
    versions = []
    for pid in ids:
        row = db.execute(
            'UPDATE "product_stock" SET "on_hand" = "on_hand" + ?, "reserved" = "reserved" + ?, '
            '"version" = "version" + ?, "updated_at" = ? WHERE "product_stock"."product_id" = ? '
            'AND "product_stock"."location_id" = ? AND "reserved" + ? >= ? AND "on_hand" + ? >= "reserved" + ? '
            'AND "on_hand" + ? <= ? AND ("on_hand" + ?) - ("reserved" + ?) >= "safety_stock" '
            'RETURNING "product_id", "location_id", "on_hand", "reserved", "safety_stock", "version", '
            '"updated_at", "max_per_order", "max_per_customer", "backorder_limit"',
            (0, 1, 1, at, pid, LOCATION, 1, 0, 0, 1, 0, ON_HAND, 0, 1)).fetchone()
        versions.append(row)
    first = db.execute("UPDATE event_sequence SET last = last + ? WHERE id = 1 RETURNING last",
                       (4,)).fetchone()[0] - 3
    db.execute(
        'INSERT INTO "orders" ("id", "status", "total_amount", "currency", "customer_id", "customer_asserted", '
        '"created_at", "expires_at", "paid_at", "cancelled_at", "expired_at", "placed_by", "settled_by", '
        '"version", "reserved_sequence", "settled_sequence") '
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        (order, "reserved", 5997, "EUR", None, False, at, expires, None, None, None, None, None, 1,
         first + 3, None))
    db.execute(
        'INSERT INTO "order_lines" ("order_id", "product_id", "quantity", "unit_price_amount", "currency", '
        '"backordered") VALUES (?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?)',
        tuple(v for pid in ids for v in (order, pid, 1, 1999, "EUR", 0)))
    db.execute(
        'INSERT INTO "stock_movements" ("product_id", "location_id", "kind", "on_hand_delta", "reserved_delta", '
        '"version", "order_id", "reason", "actor", "at", "sequence", "on_hand", "reserved", "safety_stock") '
        'VALUES ' + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * 3),
        tuple(v for n, row in enumerate(versions)
              for v in (row[0], row[1], "reserve", 0, 1, row[5], order, None, None, at, first + n,
                        row[2], row[3], row[4])))
    db.execute("COMMIT")


def hot(db, _products):
    at = stamp(datetime.now(timezone.utc))
    db.execute("UPDATE product_stock SET reserved = reserved + 1, version = version + 1, updated_at = ? "
               "WHERE product_id = ? AND location_id = ? AND on_hand - reserved >= 1",
               (at, product_id(1), LOCATION))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--scenario", choices=["spread", "hot", "service"], required=True,
                        help="service: the service's own statements for a spread checkout")
    parser.add_argument("--products", type=int, default=100)
    parser.add_argument("--clients", type=int, default=1, help="reported only: one writer runs")
    parser.add_argument("--json")
    args = parser.parse_args()
    # isolation_level=None: transactions exactly as written (autocommit outside BEGIN … COMMIT).
    db = sqlite3.connect(args.db, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("PRAGMA foreign_keys = ON")
    seed(db, args.products)
    step = {"spread": checkout, "hot": hot, "service": service}[args.scenario]
    latencies = []
    started = time.perf_counter()
    deadline = started + args.seconds
    while (begun := time.perf_counter()) < deadline:
        step(db, args.products)
        latencies.append(time.perf_counter() - begun)
    elapsed = time.perf_counter() - started
    tps = len(latencies) / elapsed
    latencies.sort()
    p = lambda q: int(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1e6)
    print(f"tps={tps:.1f} failures=0 clients={args.clients} (one writer) scenario={args.scenario} "
          f"backend=sqlite (C API)")
    if args.json:
        report = {"backend": "sqlite", "scenario": args.scenario, "clients": args.clients,
                  "seconds": elapsed, "committed": len(latencies), "failures": 0, "tps": tps,
                  "latency_us": {"p50": p(0.5), "p99": p(0.99)}, "driver": "python sqlite3, one writer"}
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
