"""The public entry point of the legacy import: `load_directory(path)`.

All or nothing: every row of every file is parsed and checked first; if any is bad the
whole list is raised (ImportRejected) and nothing is written. Otherwise everything is
written in one transaction with ONE audit entry summarising the counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from pingan.audit.log import record
from pingan.audit.signals import capture_paused
from pingan.core import clock
from pingan.core.models import Centre

from . import parse, validate, write
from .errors import ImportRejected, RowError

__all__ = ["ImportRejected", "ImportReport", "RowError", "load_directory"]


@dataclass(frozen=True)
class ImportReport:
    """`rows`: data rows read per file present; `created`: records written per kind."""

    rows: dict[str, int] = field(default_factory=dict)
    created: dict[str, int] = field(default_factory=dict)


def read_directory(path: Path) -> tuple[dict[str, list], list[RowError], set[str]]:
    """Parse every known file in `path`: (records per file, errors, codes of bad client rows)."""
    today = clock.today()
    rows: dict[str, list] = {}
    errors: list[RowError] = []
    bad_codes: set[str] = set()
    for name, make in parse.MAKERS.items():
        file = path / name
        if not file.is_file():
            continue
        key = "code" if name == "clients.csv" else "client_code"
        records, file_errors, bad_keys = parse.read_rows(file, today, make, key)
        rows[name] = records
        errors += file_errors
        if name == "clients.csv":
            bad_codes |= bad_keys
    return rows, errors, bad_codes


def load_directory(
    path: Path, *, progress: bool = True, centre: Centre | None = None
) -> ImportReport:
    """Load whichever of clients.csv, doses.csv, urine.csv, tests.csv and discharges.csv
    `path` holds into `centre` (by default the installation's). Raises ImportRejected
    listing every bad row; then nothing is written."""
    path = Path(path)
    if not path.is_dir():
        raise ImportRejected([RowError(str(path), 0, "", _("not a directory"))])
    rows, errors, bad_codes = read_directory(path)
    if not rows:
        found = _("none of %(files)s found") % {"files": ", ".join(parse.FILES)}
        raise ImportRejected([RowError(str(path), 0, "", found)])
    with transaction.atomic():
        # The checks read the database inside the write transaction, so nothing can slip
        # in between checking a client code and inserting it.
        centre = centre or Centre.current()
        plan = validate.check(rows, errors, bad_codes, centre)
        if errors:
            raise ImportRejected(errors)
        with capture_paused():  # one summary entry below, not one per row
            created = write.write(plan, progress, centre)
        counts = {name: len(records) for name, records in rows.items()}
        record("import", target=path.name[:120], files=counts, created=created)
    return ImportReport(rows=counts, created=created)
