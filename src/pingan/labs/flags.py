"""Which urine samples say the client did not take their methadone (no database).

A client on methadone excretes methadone and its metabolite EDDP; a sample negative for
both, from a client who takes doses home, is the classic sign that the take-home doses
were not taken by the client. Only a sample tested for BOTH analytes can say so: a sample
without one of them is not judged (it is neither in the numerator nor the denominator of
`takehome_methadone_negative_rate`, and raises no flag).

This module is the one definition: the flag (takehome.flags), the SQL of the indicator
(`is_methadone`, `METHADONE_TESTED`) and the test engines all read it."""

from __future__ import annotations

from collections.abc import Mapping

from .models import Analyte, Result

# The treatment and its metabolite; EDDP is also found when a sample was spiked with
# methadone, so only both negative counts.
METHADONE_ANALYTES: tuple[str, ...] = (Analyte.METHADONE.value, Analyte.EDDP.value)
# A sample's results for these analytes, one row each (one result per analyte per sample,
# a database constraint): this many rows means the sample was tested for all of them.
METHADONE_TESTED = len(METHADONE_ANALYTES)


def methadone_negative(results: Mapping[str, str]) -> bool | None:
    """True if methadone and EDDP are both negative, False if both were tested and one is
    positive, None if one of them was not tested."""
    if any(a not in results for a in METHADONE_ANALYTES):
        return None
    return all(results[a] == Result.NEGATIVE for a in METHADONE_ANALYTES)


def is_methadone(column: str = "analyte") -> str:
    """`column IN ('methadone', 'eddp')`, the same in SQLite, PostgreSQL and DuckDB."""
    values = ", ".join("'" + a.replace("'", "''") + "'" for a in METHADONE_ANALYTES)
    return f"{column} IN ({values})"
