#!/usr/bin/env python3
"""Draws one bench/run.sh result folder as SVG line charts: orders/s against clients, ours (one
line per server variant) and the raw-SQL baseline, one chart per backend and scenario.

    python3 bench/plot.py bench/results/<run>            # writes <run>/plot-<backend>-<scenario>.svg

Plain SVG written here, so the benchmark needs nothing beyond Python's standard library.
"""
import json
import math
import sys
from pathlib import Path

from summary import raw_rate

WIDTH, HEIGHT = 640, 380
LEFT, RIGHT, TOP, BOTTOM = 70, 150, 40, 50
COLOURS = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2"]
RAW_COLOUR = "#d62728"


def series(out, backend, scenario):
    """{label: [(clients, orders/s)]}, ours per variant and the raw baseline."""
    lines = {}
    for path in sorted(out.glob(f"ours-{backend}-*-{scenario}-*.json")):
        parts = path.stem.split("-")
        variant, clients = "-".join(parts[2:-2]), int(parts[-1])
        lines.setdefault(f"ours ({variant})", []).append(
            (clients, json.loads(path.read_text())["orders_per_sec"]))
    clients = sorted({c for points in lines.values() for c, _ in points})
    raw = [(c, r) for c in clients if (r := raw_rate(out, backend, scenario, c))]
    if raw:
        lines["raw SQL"] = raw
    return {label: sorted(points) for label, points in lines.items()}


def nice_ceiling(value):
    """The smallest 1, 2 or 5 × 10^n at or above value."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= value)


def chart(title, lines):
    clients = sorted({c for points in lines.values() for c, _ in points})
    top = nice_ceiling(max(r for points in lines.values() for _, r in points) * 1.05)
    lo, hi = math.log2(clients[0]), math.log2(clients[-1])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(c):
        return LEFT + (plot_w * (math.log2(c) - lo) / (hi - lo) if hi > lo else plot_w / 2)

    def y(r):
        return TOP + plot_h * (1 - r / top)

    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
           f'<text x="{LEFT}" y="22" font-size="14" font-weight="bold">{title}</text>']
    for i in range(6):
        value = top * i / 5
        svg.append(f'<line x1="{LEFT}" y1="{y(value):.1f}" x2="{LEFT + plot_w}" '
                   f'y2="{y(value):.1f}" stroke="#ddd"/>')
        svg.append(f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end">'
                   f'{value:,.0f}</text>')
    for c in clients:
        svg.append(f'<text x="{x(c):.1f}" y="{TOP + plot_h + 18}" text-anchor="middle">{c}</text>')
    svg.append(f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 10}" text-anchor="middle">'
               'clients (log scale)</text>')
    svg.append(f'<text transform="translate(16 {TOP + plot_h / 2}) rotate(-90)" '
               'text-anchor="middle">orders/s</text>')
    svg.append(f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" '
               f'y2="{TOP + plot_h}" stroke="black"/>')
    colours = iter(COLOURS)
    for n, (label, points) in enumerate(lines.items()):
        colour = RAW_COLOUR if label == "raw SQL" else next(colours)
        dash = ' stroke-dasharray="6 4"' if label == "raw SQL" else ""
        path = " ".join(f"{x(c):.1f},{y(r):.1f}" for c, r in points)
        svg.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                   f'stroke-width="2"{dash}/>')
        for c, r in points:
            svg.append(f'<circle cx="{x(c):.1f}" cy="{y(r):.1f}" r="3" fill="{colour}">'
                       f'<title>{label}, {c} clients: {r:,.0f} orders/s</title></circle>')
        ly = TOP + 10 + 20 * n
        svg.append(f'<line x1="{WIDTH - RIGHT + 12}" y1="{ly}" x2="{WIDTH - RIGHT + 36}" '
                   f'y2="{ly}" stroke="{colour}" stroke-width="2"{dash}/>')
        svg.append(f'<text x="{WIDTH - RIGHT + 42}" y="{ly + 4}">{label}</text>')
    svg.append("</svg>")
    return "\n".join(svg) + "\n"


def main():
    out = Path(sys.argv[1])
    found = {tuple(p.stem.split("-")[i] for i in (1, -2)) for p in out.glob("ours-*.json")}
    for backend, scenario in sorted(found):
        lines = series(out, backend, scenario)
        if not lines:
            continue
        target = out / f"plot-{backend}-{scenario}.svg"
        target.write_text(chart(f"{scenario} carts, {backend}", lines))
        print(f"wrote {target}")


if __name__ == "__main__":
    main()
