"""SQL that keeps `UrineSample.opioid` equal to what the sample's results say, and the
SQL form of "this result is an opioid analyte" for every query that reads results.

The take-home list reads one column per sample instead of joining millions of per-analyte
results every night. The database keeps it, whatever writes the results (the screen, an
import, a restore), so it cannot drift: after every insert, update or delete of a result,
the sample's value is recomputed from all its results, as `labs.rules.opioid_positive`
decides — positive (1) if one of `rules.OPIOID_ANALYTES` is positive, negative (0) if one of
them has a result and none is positive, NULL with none of them.

Everything here is generated from `rules.OPIOID_ANALYTES`. The migration that installs the
triggers (labs 0002) runs these statements once: changing the definition needs a new
migration that runs `SQLITE`/`POSTGRES` and `BACKFILL` again (tests/labs holds the installed
triggers to `rules.opioid_positive`, so a stale trigger fails there).
"""

from __future__ import annotations

from collections.abc import Iterable

from .rules import OPIOID_ANALYTES


def sql_strings(values: Iterable[str]) -> str:
    """`'a', 'b'`: string literals for an IN list (quotes doubled, as SQL escapes them)."""
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values)


def is_opioid(column: str = "analyte") -> str:
    """`column IN ('opiates', 'morphine')`, the same in SQLite, PostgreSQL and DuckDB."""
    return f"{column} IN ({sql_strings(OPIOID_ANALYTES)})"


def _value(sample_id: str) -> str:
    return f"""(SELECT CASE WHEN max(CASE WHEN result = 'positive' THEN 1 ELSE 0 END) = 1
        THEN 1 WHEN count(*) > 0 THEN 0 END FROM labs_urineresult
        WHERE sample_id = {sample_id} AND {is_opioid()})"""


def _sqlite_trigger(event: str, row: str) -> str:
    return f"""CREATE TRIGGER labs_result_opioid_{event.lower()}_{row.lower()}
        AFTER {event} ON labs_urineresult BEGIN
        UPDATE labs_urinesample SET opioid = {_value(f"{row}.sample_id")}
        WHERE id = {row}.sample_id; END;"""


SQLITE = [
    _sqlite_trigger("INSERT", "NEW"),
    _sqlite_trigger("UPDATE", "NEW"),
    _sqlite_trigger("UPDATE", "OLD"),
    _sqlite_trigger("DELETE", "OLD"),
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS labs_result_opioid_insert_new;",
    "DROP TRIGGER IF EXISTS labs_result_opioid_update_new;",
    "DROP TRIGGER IF EXISTS labs_result_opioid_update_old;",
    "DROP TRIGGER IF EXISTS labs_result_opioid_delete_old;",
]
POSTGRES = [
    f"""CREATE OR REPLACE FUNCTION labs_result_opioid() RETURNS trigger AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            UPDATE labs_urinesample SET opioid = {_value("OLD.sample_id")}
            WHERE id = OLD.sample_id;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            UPDATE labs_urinesample SET opioid = {_value("NEW.sample_id")}
            WHERE id = NEW.sample_id;
        END IF;
        RETURN NULL;
    END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER labs_result_opioid AFTER INSERT OR UPDATE OR DELETE
        ON labs_urineresult FOR EACH ROW EXECUTE FUNCTION labs_result_opioid();""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS labs_result_opioid ON labs_urineresult;",
    "DROP FUNCTION IF EXISTS labs_result_opioid();",
]
# Existing samples, once, in one set-based pass (samples without an opioid result stay NULL).
BACKFILL = f"""UPDATE labs_urinesample SET opioid = o.value FROM (
    SELECT sample_id, max(CASE WHEN result = 'positive' THEN 1 ELSE 0 END) AS value
    FROM labs_urineresult WHERE {is_opioid()} GROUP BY sample_id) o
    WHERE o.sample_id = labs_urinesample.id;"""
