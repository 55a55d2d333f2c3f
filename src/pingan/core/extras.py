"""The analytics libraries (DuckDB, pyarrow), which a clinic's server does without.

They come with the `analytics` extra (`pip install 'pingan[analytics]'`; the demo and the
test suite install it). Only the national-scale paths need them: the indicators and the
take-home list in DuckDB over Parquet files, `pingan indicators --export-parquet`,
`pingan synth --format parquet` and the benchmarks. Those paths import the libraries through
here, when they run, so the screens and every other command work without them, and a
missing library is a message saying what to install rather than a traceback.
"""

from __future__ import annotations

from types import ModuleType

from django.core.management.base import CommandError
from django.utils.translation import gettext as _


class AnalyticsMissing(CommandError, ImportError):
    """An analytics library is not installed. A CommandError, so a command that meets it
    prints the message and exits with status 1; an ImportError for any other caller."""


def _missing(library: str) -> AnalyticsMissing:
    return AnalyticsMissing(
        _(
            "%(library)s is not installed: install pingan[analytics] (pip install 'pingan[analytics]')."
        )
        % {"library": library}
    )


def duckdb() -> ModuleType:
    """The duckdb module."""
    try:
        import duckdb as module
    except ImportError as exc:
        raise _missing("DuckDB") from exc
    return module


def pyarrow() -> tuple[ModuleType, ModuleType]:
    """pyarrow and pyarrow.parquet."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise _missing("pyarrow") from exc
    return pa, pq
