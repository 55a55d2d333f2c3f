"""`pingan bench NAME [--scale small|full]`: run one benchmark from bench/ and print its table.

Benchmarks live in the repository's bench/ folder (not in the installed package): each is a
module with `run(scale: str = "small", **options) -> list[dict]`."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

BENCH_DIR = Path(__file__).resolve().parents[5] / "bench"


def available() -> list[str]:
    return sorted(p.stem for p in BENCH_DIR.glob("*.py") if not p.stem.startswith("_"))


def print_table(rows: list[dict], write) -> None:
    if not rows:
        write("(no rows)")
        return
    columns = list(dict.fromkeys(k for row in rows for k in row))
    cells = [[str(row.get(c, "")) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    write("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    write("  ".join("-" * w for w in widths))
    for r in cells:
        write("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)))


class Command(BaseCommand):
    help = (
        "Run a benchmark from bench/ (e.g. eligibility, pins, indicators, dosing, region) and"
        " print a table."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="benchmark name: " + ", ".join(available()))
        parser.add_argument("--scale", choices=["small", "full"], default="small")

    def handle(self, *args, name, scale, **options):
        name = name.replace("-", "_")  # region-dashboard is bench/region_dashboard.py
        if not BENCH_DIR.is_dir():
            raise CommandError(f"no bench/ folder at {BENCH_DIR}: run from a source checkout")
        if name not in available():
            raise CommandError(f"unknown benchmark {name!r}; available: {', '.join(available())}")
        sys.path.insert(0, str(BENCH_DIR.parent))
        module = importlib.import_module(f"bench.{name}")
        rows = module.run(scale=scale)
        print_table(rows, self.stdout.write)
