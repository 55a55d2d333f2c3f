"""`pingan synth`: a synthetic centre in the import format, for demos, tests and benchmarks."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from pingan.core import clock
from pingan.synth.generator import CentreSpec
from pingan.synth.writers import write_centre


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(_("Not a date (YYYY-MM-DD): %(value)s") % {"value": value}) from exc


class Command(BaseCommand):
    help = (
        "Write a synthetic centre (clients.csv, doses.csv, urine.csv, tests.csv, "
        "discharges.csv, and/or Parquet) that `pingan import` loads. Same seed, same bytes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clients", type=int, required=True, help="number of clients")
        parser.add_argument("--days", type=int, required=True, help="length of the period")
        parser.add_argument("--out", required=True, help="directory to write into")
        parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
        parser.add_argument(
            "--start",
            help="first day of the period, YYYY-MM-DD (default: so that it ends yesterday)",
        )
        parser.add_argument(
            "--format", choices=("csv", "parquet", "both"), default="csv", help="default csv"
        )
        parser.add_argument("--prefix", default="PA-", help="client code prefix (default PA-)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options) -> None:
        clients, days, seed = options["clients"], options["days"], options["seed"]
        if clients < 1 or days < 1:
            raise CommandError(_("--clients and --days must be at least 1."))
        if seed < 0:
            raise CommandError(_("--seed must not be negative."))
        prefix = options["prefix"]
        if not prefix or any(c in prefix for c in ',"\n\r'):
            raise CommandError(_("--prefix must be non-empty and contain no comma or quote."))
        if options["start"]:
            start = _iso_date(options["start"])
        else:
            start = clock.today() - timedelta(days=days)
        formats = {"csv": ("csv",), "parquet": ("parquet",), "both": ("csv", "parquet")}[
            options["format"]
        ]
        out = Path(options["out"])
        if out.exists() and not out.is_dir():
            raise CommandError(_("%(path)s exists and is not a directory.") % {"path": out})
        spec = CentreSpec(clients=clients, days=days, start=start, seed=seed, code_prefix=prefix)
        report = write_centre(spec, out, formats, progress=not options["no_progress"])
        for table, rows in report.counts.rows.items():
            self.stdout.write(f"{table:<11} {rows:>12,}")
        self.stdout.write(
            _(
                "%(rows)s rows in %(seconds).1f s (%(rate)s rows/s); %(takehome)s clients on "
                "take-home in the last 60 days; period %(start)s to %(end)s; written to %(out)s"
            )
            % {
                "rows": f"{report.counts.total:,}",
                "seconds": report.seconds,
                "rate": f"{report.rows_per_second:,.0f}",
                "takehome": report.takehome_clients,
                "start": spec.start,
                "end": spec.end,
                "out": out,
            }
        )
