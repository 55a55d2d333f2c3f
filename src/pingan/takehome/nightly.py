"""The nightly eligibility list from the clinic's database (PostgreSQL or SQLite).

A few set-based statements decide the whole list (`listsql`: counts per window and the days
allowed in SQL). A `Decision` — every check with its translated evidence and the administrative
facts — costs far more per client than the query, so `NightlyList` builds them on demand,
for the rows a screen, an export or an approval needs. The per-client engine
(`queries.evaluate_client`) is the reference both are tested against.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date

from django.db import connection, transaction

from pingan.dosing.models import Dose
from pingan.labs.models import UrineSample
from pingan.registry.models import Client, Episode

from . import listsql, queries, rules
from .standard import Rules

# PostgreSQL's defaults are sized for many small queries: a national list groups 350,000
# clients, which at 4 MB of work memory spills to disk. Raised for this transaction only.
POSTGRESQL_SETTINGS = ("SET LOCAL work_mem = '256MB'",)
STAGES = ("nightly_dz", "nightly_u")


def statements(rules_: Rules, day: date, dialect: listsql.Dialect) -> tuple[list[str], str]:
    """The list for `day` in the database's own tables: the statements that fill two
    temporary tables (dose counts, urine counts: one row per client each), then the query
    that joins them to the episodes and decides the days allowed.

    In stages because one statement left PostgreSQL's planner to guess how 350,000 groups
    from each side would join, and it guessed wrong (a 17 s plan for 10 s of work); each
    stage on its own gets a parallel plan, and the final join reads the measured tables.

    Urine is read from each sample's `opioid` outcome, which the database keeps from the
    per-analyte results (labs/opioid_sql.py): joining millions of results every night cost
    more than everything else together. The latest positive per client comes first (few
    rows, a partial index: `pos`); one pass over the samples since enrolment then counts the
    negatives after it (the run) and in each window."""
    q = dialect
    d = q.date(day)
    episode, dose, client = Episode._meta.db_table, Dose._meta.db_table, Client._meta.db_table
    sample = UrineSample._meta.db_table
    negatives = listsql.window_counts(
        rules_.negative_windows, day, q, "s.collected_on", "n", where="s.opioid = 0"
    )
    since_enrolment = f"s.collected_on >= ep.e AND s.collected_on < {d}"
    # ep: the episode open on D (enrolled on or before it, not discharged by then).
    ep = f"""WITH ep AS {q.inline} (
        SELECT client_id AS cid, max(enrolled_on) AS e, {q.days("max(enrolled_on)", d)} AS dot
        FROM {episode}
        WHERE enrolled_on <= {d} AND (discharged_on IS NULL OR discharged_on > {d})
        GROUP BY client_id)"""
    doses = f"""CREATE TEMP TABLE nightly_dz AS {ep},
    {listsql.dose_counts(rules_, day, q, dose, "client_id", "date")}
    SELECT * FROM dz"""
    urine = f"""CREATE TEMP TABLE nightly_u AS {ep},
    pos AS (
        SELECT s.client_id AS cid, max(s.collected_on) AS last_pos
        FROM {sample} s JOIN ep ON ep.cid = s.client_id
        WHERE s.opioid = 1 AND {since_enrolment} GROUP BY s.client_id)
    SELECT s.client_id AS cid, max(pos.last_pos) AS last_pos,
        count(*) FILTER (WHERE s.opioid = 0
            AND (pos.last_pos IS NULL OR s.collected_on > pos.last_pos)) AS run{negatives}
    FROM {sample} s JOIN ep ON ep.cid = s.client_id LEFT JOIN pos ON pos.cid = s.client_id
    WHERE s.opioid IS NOT NULL AND {since_enrolment} GROUP BY s.client_id"""
    final = f"""{ep}
    SELECT {listsql.select_list(rules_, day, q, "c.code")}
    FROM ep JOIN {client} c ON c.id = ep.cid
        LEFT JOIN nightly_dz dz ON dz.cid = ep.cid LEFT JOIN nightly_u u ON u.cid = ep.cid
    ORDER BY c.code"""
    return [doses, urine], final


@dataclass
class NightlyList:
    """Every client in treatment on `day`, in code order: rows in `listsql.row_columns`
    order, the days allowed decided in SQL."""

    day: date
    rules: Rules
    rows: list[tuple]

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def allowed_count(self) -> int:
        return sum(1 for row in self.rows if row[-1])

    def decisions(self, only_allowed: bool = False) -> list[rules.Decision]:
        """The Decisions of the list (or of its clients allowed take-home), with the
        administrative facts read for those clients only."""
        rows = [r for r in self.rows if r[-1]] if only_allowed else self.rows
        admin = queries.all_admin_facts(self.day, [r[0] for r in rows])
        empty = rules.AdminFacts()
        translate = rules.translator()
        return [
            rules.decide(
                listsql.aggregates_of(row, self.rules, admin.get(row[0], empty)),
                self.rules,
                self.day,
                translate,
            )
            for row in rows
        ]


def nightly_list(day: date, rules_: Rules | None = None) -> NightlyList:
    """The list, set-based: two aggregate statements and one query."""
    rules_ = rules_ or queries.rules_for(day)
    postgres = connection.vendor == "postgresql"
    stages, final = statements(rules_, day, listsql.DIALECTS[connection.vendor])
    # PostgreSQL: one transaction, for SET LOCAL and one snapshot. SQLite: none, since a
    # transaction there takes the write lock at BEGIN (IMMEDIATE, settings) and the nurses'
    # doses would wait for the list; each statement reads a consistent database anyway.
    block = transaction.atomic() if postgres else contextlib.nullcontext()
    with block, connection.cursor() as cursor:
        for setting in POSTGRESQL_SETTINGS if postgres else ():
            cursor.execute(setting)
        # Temporary tables belong to this connection (dropped first in case an earlier
        # run failed half-way; on PostgreSQL the rollback drops them anyway).
        for table, statement in zip(STAGES, stages, strict=True):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute(statement)
            if postgres:
                cursor.execute(f"ANALYZE {table}")
        cursor.execute(final)
        rows = cursor.fetchall()
        for table in STAGES:
            cursor.execute(f"DROP TABLE {table}")
    return NightlyList(day, rules_, rows)


def eligibility(day: date, rules_: Rules | None = None) -> list[rules.Decision]:
    """The nightly list as Decisions, sorted by code (the command and small lists)."""
    return nightly_list(day, rules_).decisions()
