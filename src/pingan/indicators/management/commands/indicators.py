"""`pingan indicators`: the indicator set of one month, on the centre's database or Parquet."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from pingan.core import clock
from pingan.core.models import Centre
from pingan.indicators.definitions import BY_ID, INDICATORS, IndicatorSet, Period
from pingan.indicators.engines import DuckEngine, UnknownCentre, compute_db, export_parquet
from pingan.indicators.suppression import suppress_set


def _period(text: str | None) -> Period:
    if not text:
        return Period.of(clock.today()).shift(-1)
    try:
        return Period.parse(text)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc


def _fmt(value: float | None, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "rate":
        return f"{value * 100:.1f}%"
    return f"{value:.1f}" if kind == "mean" else f"{value:.0f}"


class Command(BaseCommand):
    help = (
        "The indicator set (docs/indicators.md) of one month: on the centre's database (--engine "
        "sql, SQLite or PostgreSQL) or with DuckDB over Parquet files (--engine duckdb "
        "--parquet DIR, e.g. the output of `pingan synth --format parquet`). JSON: "
        '{"period": ..., "indicators": {id: {"value", "numerator", "denominator"}}}.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", help="month YYYY-MM (default: last month)")
        parser.add_argument("--format", choices=("table", "json", "csv"), default="table")
        parser.add_argument("--engine", choices=("sql", "duckdb"), default="sql")
        parser.add_argument(
            "--parquet",
            help="folder of Parquet files for --engine duckdb (default: export this "
            "centre's database to a temporary folder first)",
        )
        parser.add_argument(
            "--export-parquet",
            metavar="DIR",
            help="write this centre's treatment, dose and lab records (codes only, no "
            "identity) as Parquet to DIR and stop",
        )
        parser.add_argument(
            "--suppress",
            action="store_true",
            help="suppress cells of fewer than 5 people, as for figures leaving the centre",
        )
        parser.add_argument(
            "--centre",
            metavar="CODE",
            help="the figures of this centre's clients (default: every centre, pooled)",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options) -> None:
        if options["export_parquet"]:
            counts = export_parquet(Path(options["export_parquet"]))
            for name, rows in counts.items():
                self.stdout.write(f"{name:<10} {rows:>12,}")
            return
        period = _period(options["period"])
        options["centre_code"], options["centre_id"] = self._centre(options)
        progress = not options["no_progress"] and sys.stderr.isatty()
        result = self._compute(period, options, progress)
        if options["suppress"]:
            result = suppress_set(result)
        getattr(self, f"_write_{options['format']}")(result)

    def _centre(self, options: dict) -> tuple[str | None, int | None]:
        """The centre asked for, as its code and its id on this database. Parquet files
        given with --parquet may come from elsewhere: the engine checks the code against
        the centres they hold."""
        code = (options.get("centre") or "").strip().upper()
        if not code:
            return None, None
        if options["engine"] == "duckdb" and options["parquet"]:
            return code, None
        found = Centre.objects.filter(code=code).first()
        if found is None:
            raise CommandError(_("No centre has the code %(code)s.") % {"code": code})
        return code, found.pk

    def _compute(self, period: Period, options: dict, progress: bool) -> IndicatorSet:
        from tqdm import tqdm

        ids = [i.id for i in INDICATORS]
        bar = tqdm(total=len(ids), disable=not progress, desc=str(period), unit=" indicators")
        out = IndicatorSet(period)
        try:
            if options["engine"] == "sql":
                for ind_id in ids:
                    out.results.update(
                        compute_db(period, [ind_id], centre_id=options["centre_id"]).results
                    )
                    bar.update()
                return out
            folder = options["parquet"]
            if folder:
                try:
                    engine = DuckEngine(Path(folder), centre=options["centre_code"])
                except FileNotFoundError as exc:
                    raise CommandError(
                        _("No Parquet files found: %(path)s") % {"path": exc}
                    ) from exc
                except UnknownCentre as exc:
                    raise CommandError(str(exc)) from exc
                code = options["centre_code"]
                if code is not None and code not in engine.centres():
                    engine.close()
                    raise CommandError(
                        _("No centre has the code %(code)s in these Parquet files.")
                        % {"code": code}
                    )
                for ind_id in ids:
                    out.results.update(engine.compute(period, [ind_id]).results)
                    bar.update()
                return out
            import tempfile

            with tempfile.TemporaryDirectory() as tmp:
                export_parquet(Path(tmp))
                engine = DuckEngine(Path(tmp), centre=options["centre_code"])
                core = engine.compute(period)
                local = compute_db(
                    period,
                    [i.id for i in INDICATORS if i.source != "core"],
                    centre_id=options["centre_id"],
                )
                for ind_id in ids:
                    out.results[ind_id] = (
                        core.results[ind_id]
                        if BY_ID[ind_id].source == "core"
                        else local.results[ind_id]
                    )
                    bar.update()
                engine.close()
            return out
        finally:
            bar.close()

    def _write_json(self, result: IndicatorSet) -> None:
        self.stdout.write(json.dumps(result.as_json(), ensure_ascii=False, indent=2))

    def _write_csv(self, result: IndicatorSet) -> None:
        from pingan.indicators.report import csv_rows

        writer = csv.writer(self.stdout, lineterminator="\n")
        for row in csv_rows(result):
            writer.writerow(row)

    def _write_table(self, result: IndicatorSet) -> None:
        self.stdout.write(_("Indicators for %(period)s") % {"period": result.period})
        for ind in INDICATORS:
            r = result.results[ind.id]
            parts = f"{r.numerator} / {r.denominator}" if r.denominator is not None else ""
            ci = ""
            if r.ci_low is not None:
                ci = f"[{r.ci_low * 100:.1f}–{r.ci_high * 100:.1f}%]"
            note = _("suppressed") if r.suppressed else r.note
            self.stdout.write(
                f"{ind.id:<34} {_fmt(r.value, ind.kind):>8}  {parts:<15} {ci:<16} {note}".rstrip()
            )
