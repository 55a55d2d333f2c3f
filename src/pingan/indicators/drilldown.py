"""The clients behind a figure (staff with drilldown_indicators only, never in an export).

Each list is built from the same SQL pieces as the indicator itself (sql.py), so the rows
with `counted` true are exactly its numerator and all rows its denominator population.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection

from . import sql as q
from .definitions import ADEQUATE_DOSE_MG, Period
from .engines import dialect_of, with_db_sources


@dataclass(frozen=True)
class Row:
    client_id: int
    counted: bool  # in the numerator
    detail: str


def _adherence(split: str = "") -> Callable:
    def query(x, p):
        ctes = {"td": q.treatment_days(x, p), "dd": q.dosed_days(x, p), "th": q.takehome(x, p)}
        where = {
            "": "",
            "takehome": "WHERE th.client IS NOT NULL",
            "clinic": "WHERE th.client IS NULL",
        }
        return q._with(**ctes) + (
            "SELECT td.client, COALESCE(dd.n, 0) > 0, COALESCE(dd.n, 0), td.days FROM td "
            "LEFT JOIN dd ON dd.client = td.client LEFT JOIN th ON th.client = td.client "
            + where[split]
        )

    return query


def _positive(split: str = "") -> Callable:
    def query(x, p):
        where = {
            "": "",
            "takehome": "WHERE th.client IS NOT NULL",
            "clinic": "WHERE th.client IS NULL",
        }
        return q._with(s=q.samples(x, p), th=q.takehome(x, p)) + (
            "SELECT s.client, MAX(s.pos) = 1, SUM(s.pos), COUNT(*) FROM s "
            f"LEFT JOIN th ON th.client = s.client {where[split]} GROUP BY s.client"
        )

    return query


def _tested(test: str) -> Callable:
    def query(x, p):
        since = x.d(p.end - timedelta(days=364))
        return (
            q._with(
                a=q.active(x, p),
                t=f"SELECT client, MAX(day) AS day FROM itest WHERE test = '{test}' "
                f"AND day BETWEEN {since} AND {x.d(p.end)} GROUP BY client",
            )
            + "SELECT a.client, t.client IS NOT NULL, t.day, NULL FROM a LEFT JOIN t ON t.client = a.client"
        )

    return query


def _retention(months: int) -> Callable:
    def query(x, p):
        return (
            f"WITH {q.retention_anchors(x, p, months)} "
            f"SELECT ep.client, MAX(CASE WHEN {q.retained('ep', 'an')} THEN 1 ELSE 0 END) = 1, "
            "MIN(ep.enrolled_on), MIN(an.anchor) FROM ep JOIN an ON ep.enrolled_on = an.enrolled "
            "GROUP BY ep.client"
        )

    return query


DRILL: dict[str, Callable] = {
    "active_clients": lambda x, p: (
        q._with(a=q.active(x, p)) + "SELECT client, 1 = 1, NULL, NULL FROM a"
    ),
    "adherence": _adherence(),
    "takehome_adherence": _adherence("takehome"),
    "clinic_only_adherence": _adherence("clinic"),
    "retention_3m": _retention(3),
    "retention_6m": _retention(6),
    "retention_12m": _retention(12),
    "adequate_dose_share": lambda x, p: (
        q._with(ld=q.last_doses(x, p))
        + f"SELECT client, mg >= {ADEQUATE_DOSE_MG}, mg, NULL FROM ld"
    ),
    "opiate_positive_rate": _positive(),
    "takehome_opiate_positive_rate": _positive("takehome"),
    "clinic_only_opiate_positive_rate": _positive("clinic"),
    "hiv_tested_12m": _tested("hiv"),
    "hcv_tested_12m": _tested("hcv"),
    "hbv_tested_12m": _tested("hbv"),
    "syphilis_tested_12m": _tested("syphilis"),
    "tb_screened_12m": _tested("tb"),
    "hiv_new_positive": lambda x, p: (
        q._with(
            f="SELECT client, MIN(day) AS first_on FROM itest "
            "WHERE test = 'hiv' AND result = 'positive' GROUP BY client"
        )
        + f"SELECT client, 1 = 1, first_on, NULL FROM f WHERE first_on BETWEEN {x.d(p.start)} AND {x.d(p.end)}"
    ),
    "takehome_clients": lambda x, p: (
        q._with(t=q.takehome(x, p)) + "SELECT client, 1 = 1, NULL, NULL FROM t"
    ),
}


def _detail(ind_id: str, a, b) -> str:
    if a is None:
        return ""
    if b is None:
        return str(a)
    return f"{a} / {b}"


def drill(ind_id: str, period: Period, centre_id: int | None = None) -> list[Row]:
    """The clients behind `ind_id` in `period`, numerator first: of one centre when
    `centre_id` is given, as that centre's figure counts them."""
    x = dialect_of(connection)
    with connection.cursor() as cursor:
        cursor.execute(with_db_sources(x, DRILL[ind_id](x, period), centre_id))
        rows = [Row(int(c), bool(n), _detail(ind_id, a, b)) for c, n, a, b in cursor.fetchall()]
    return sorted(rows, key=lambda r: (not r.counted, r.client_id))
