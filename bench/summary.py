#!/usr/bin/env python3
"""Turns one bench/run.sh result folder into Markdown tables: our orders/s per strategy next to
the raw-SQL rate of the same transaction shape at the same concurrency, and their ratio."""
import json
import re
import sys
from pathlib import Path

def raw_rate(out, backend, scenario, clients):
    """The raw-SQL baseline's transactions/s in run folder `out`, or None."""
    txt = out / f"raw-{backend}-{scenario}-{clients}.txt"
    if txt.exists():
        m = re.search(r"^tps = ([0-9.]+)", txt.read_text(), re.M)
        return float(m.group(1)) if m else None
    js = out / f"raw-{backend}-{scenario}-{clients}.json"
    return json.loads(js.read_text())["tps"] if js.exists() else None


def ours(out, backend, strategy, scenario, clients):
    js = out / f"ours-{backend}-{strategy}-{scenario}-{clients}.json"
    return json.loads(js.read_text()) if js.exists() else None


def main():
    out = Path(sys.argv[1])
    rows = sorted({tuple(p.stem.split("-")[1:]) for p in out.glob("ours-*.json")})
    backends = sorted({r[0] for r in rows}, reverse=True)
    fixed = ["compare-and-swap", "guarded", "grouped"]
    strategies = fixed + sorted({r[1] for r in rows} - set(fixed))
    for backend in backends:
        print(f"\n### {backend}\n")
        print("| scenario | clients | raw SQL tx/s | server | orders/s | ratio | p50 ms | p99 ms | 503s | conflicts | invariant |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for scenario in ["spread", "hot"]:
            for clients in sorted({int(r[-1]) for r in rows if r[0] == backend}):
                raw = raw_rate(out, backend, scenario, clients)
                for strategy in strategies:
                    r = ours(out, backend, strategy, scenario, clients)
                    if r is None:
                        continue
                    rate = r["orders_per_sec"]
                    lat = r["latency_us"]
                    cells = [
                        scenario,
                        str(clients),
                        f"{raw:.0f}" if raw else "–",
                        strategy,
                        f"{rate:.0f}",
                        f"{rate / raw:.2f}" if raw else "–",
                        f"{lat['p50'] / 1000:.1f}",
                        f"{lat['p99'] / 1000:.1f}",
                        str(r["status"]["contention"]),
                        str(r["server"]["version_conflicts"]),
                        "holds" if r["invariant"]["holds"] else "FAILED",
                    ]
                    print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
