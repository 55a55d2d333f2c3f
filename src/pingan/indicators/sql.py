"""The SQL of every core indicator, written once and rendered for SQLite, PostgreSQL and DuckDB.

Each query reads four relations with fixed names and columns, which every engine provides
(as CTEs over the Django tables, or as views over Parquet files):

    ep(client, enrolled_on, discharged_on)       treatment episodes
    dose(client, day, mg, kind)                  one row per client per dosed day
    urine(client, sample, day, analyte, result)  one row per analyte of a urine sample
    itest(client, day, test, result)             infection tests (labs.models.TestKind)

and returns ONE row: (numerator, denominator, people, people_numerator). The only things
that differ between databases are date literals, day differences and two-argument
min/max; `Dialect` renders those. Calendar arithmetic (months later, 365 days back) is done
in Python and passed in as literals, so no dialect has to agree on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from pingan.labs.flags import METHADONE_TESTED, is_methadone
from pingan.labs.opioid_sql import is_opioid

from .definitions import ADEQUATE_DOSE_MG, LTFU_DAYS, Period, anchors


@dataclass(frozen=True)
class Dialect:
    name: str  # sqlite, postgresql or duckdb

    def d(self, day: date) -> str:
        """A date literal (dates are ISO text in SQLite, real dates elsewhere)."""
        iso = day.isoformat()
        return f"'{iso}'" if self.name == "sqlite" else f"DATE '{iso}'"

    def days(self, start: str, end: str) -> str:
        """Whole days from `start` to `end`."""
        if self.name == "sqlite":
            return f"CAST(julianday({end}) - julianday({start}) AS INTEGER)"
        return f"({end} - {start})"

    def plus(self, day: str, n: int) -> str:
        """The date `n` days after the date `day` (before it when n < 0)."""
        if self.name == "sqlite":
            return f"date({day}, '{n:+d} days')"
        return f"({day} + {n})"

    def least(self, a: str, b: str) -> str:
        return f"min({a}, {b})" if self.name == "sqlite" else f"LEAST({a}, {b})"

    def greatest(self, a: str, b: str) -> str:
        return f"max({a}, {b})" if self.name == "sqlite" else f"GREATEST({a}, {b})"


SQLITE, POSTGRESQL, DUCKDB = Dialect("sqlite"), Dialect("postgresql"), Dialect("duckdb")


def _between(x: Dialect, col: str, p: Period) -> str:
    return f"{col} BETWEEN {x.d(p.start)} AND {x.d(p.end)}"


# Shared pieces: each returns a CTE body.
def active(x: Dialect, p: Period) -> str:
    """Clients dosed at least once in P."""
    return f"SELECT DISTINCT client FROM dose WHERE {_between(x, 'day', p)}"


def takehome(x: Dialect, p: Period) -> str:
    """Clients with at least one take-home dose in P."""
    return f"SELECT DISTINCT client FROM dose WHERE {_between(x, 'day', p)} AND kind = 'takehome'"


def overlaps(start: str, end: str, ep: str = "ep") -> str:
    """The episode has at least one day in treatment from `start` to `end` (SQL dates)."""
    return (
        f"{ep}.enrolled_on <= {end} AND ({ep}.discharged_on IS NULL OR "
        f"({ep}.discharged_on > {start} AND {ep}.discharged_on > {ep}.enrolled_on))"
    )


def clipped(x: Dialect, start: str, after: str, ep: str = "ep") -> tuple[str, str]:
    """The episode's days in treatment within start..after - 1, as (first day, day after the
    last): from enrolment up to the day before discharge."""
    return (
        x.greatest(f"{ep}.enrolled_on", start),
        x.least(f"COALESCE({ep}.discharged_on, {after})", after),
    )


def treatment_days(x: Dialect, p: Period) -> str:
    """Days in treatment in P per client: each episode counts from enrolment up to the day
    before discharge, clipped to P."""
    lo, hi = clipped(x, x.d(p.start), x.d(p.end + timedelta(days=1)))
    return (
        f"SELECT client, SUM({x.days(lo, hi)}) AS days FROM ep "
        f"WHERE {overlaps(x.d(p.start), x.d(p.end))} GROUP BY client"
    )


def dosed_days(x: Dialect, p: Period) -> str:
    """Days in P with a dose taken while in treatment, per client."""
    return (
        "SELECT dose.client, COUNT(*) AS n FROM dose JOIN ep ON ep.client = dose.client "
        "AND dose.day >= ep.enrolled_on "
        "AND (ep.discharged_on IS NULL OR dose.day < ep.discharged_on) "
        f"WHERE {_between(x, 'dose.day', p)} GROUP BY dose.client"
    )


# What a row of `urine_samples` counts as, written once for every engine.
OPIOID_TESTED = "opioid_results > 0"  # the sample has an opiates or morphine result
OPIOID_POSITIVE = "opioid_positive > 0"  # ... and one of them is positive (labs.rules)
METHADONE_JUDGED = f"methadone_results = {METHADONE_TESTED}"  # methadone AND EDDP tested
METHADONE_NEGATIVE = f"methadone_negative = {METHADONE_TESTED}"  # ... both negative


def urine_samples(x: Dialect, p: Period) -> str:
    """Urine samples of P with an opioid or a methadone result, one row each, with the
    number of its opioid results and positive ones, and of its methadone / EDDP results
    and negative ones; read through the conditions above (labs.rules, labs.flags)."""
    opioid, methadone = is_opioid(), is_methadone()
    positive, negative = "result = 'positive'", "result = 'negative'"

    def count(condition: str) -> str:
        return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"

    return (
        f"SELECT client, sample, {count(opioid)} AS opioid_results, "
        f"{count(f'{opioid} AND {positive}')} AS opioid_positive, "
        f"{count(methadone)} AS methadone_results, "
        f"{count(f'{methadone} AND {negative}')} AS methadone_negative "
        f"FROM urine WHERE {_between(x, 'day', p)} AND ({opioid} OR {methadone}) "
        "GROUP BY client, sample"
    )


def samples(x: Dialect, p: Period) -> str:
    """Urine samples of P with an opioid result, `pos` 1 if one of them is positive."""
    return (
        f"SELECT client, sample, CASE WHEN {OPIOID_POSITIVE} THEN 1 ELSE 0 END AS pos "
        f"FROM ({urine_samples(x, p)}) u WHERE {OPIOID_TESTED}"
    )


def last_doses(x: Dialect, p: Period) -> str:
    """Each active client's last dose in P."""
    return (
        "SELECT dose.client, dose.mg FROM dose JOIN ("
        f"SELECT client, MAX(day) AS day FROM dose WHERE {_between(x, 'day', p)} "
        "GROUP BY client) AS lastday ON lastday.client = dose.client AND lastday.day = dose.day"
    )


def _with(**ctes: str) -> str:
    return "WITH " + ", ".join(f"{name} AS ({body})" for name, body in ctes.items()) + " "


_ZERO = "COALESCE(SUM({0}), 0)"


def q_active_clients(x: Dialect, p: Period) -> str:
    return _with(a=active(x, p)) + "SELECT COUNT(*), NULL, COUNT(*), COUNT(*) FROM a"


def _split(x: Dialect, p: Period, ctes: dict, alias: str, split: str) -> str:
    """The clients of `alias` on take-home in the period ("takehome") or not ("clinic"):
    adds the `th` CTE and returns the join that keeps them; nothing without a split."""
    if not split:
        return ""
    ctes["th"] = takehome(x, p)
    keep = "IS NOT NULL" if split == "takehome" else "IS NULL"
    return f"LEFT JOIN th ON th.client = {alias}.client WHERE th.client {keep} "


def _adherence(x: Dialect, p: Period, split: str = "") -> str:
    ctes = {"td": treatment_days(x, p), "dd": dosed_days(x, p)}
    join = _split(x, p, ctes, "td", split)
    return _with(**ctes) + (
        f"SELECT {_ZERO.format('COALESCE(dd.n, 0)')}, {_ZERO.format('td.days')}, "
        "COUNT(*), COUNT(dd.client) FROM td LEFT JOIN dd ON dd.client = td.client " + join
    )


def q_adherence(x: Dialect, p: Period) -> str:
    return _adherence(x, p)


def q_takehome_adherence(x: Dialect, p: Period) -> str:
    return _adherence(x, p, "takehome")


def q_clinic_only_adherence(x: Dialect, p: Period) -> str:
    return _adherence(x, p, "clinic")


def retention_anchors(x: Dialect, p: Period, months: int) -> str:
    """`an(enrolled, anchor, win)`: for each enrolment day of the cohort, the day retention
    is judged on and the start of the window in which a dose must fall."""
    values = ", ".join(
        f"({x.d(e)}, {x.d(a)}, {x.d(w)})" for e, a, w in anchors(p.shift(-months), months)
    )
    return f"an(enrolled, anchor, win) AS (VALUES {values})"


def retained(episode: str, anchor: str) -> str:
    """Retained: not discharged by the anchor day and dosed in the window before it."""
    return (
        f"({episode}.discharged_on IS NULL OR {episode}.discharged_on > {anchor}.anchor) "
        f"AND EXISTS (SELECT 1 FROM dose WHERE dose.client = {episode}.client "
        f"AND dose.day BETWEEN {anchor}.win AND {anchor}.anchor)"
    )


def _retention(months: int) -> Callable[[Dialect, Period], str]:
    def query(x: Dialect, p: Period) -> str:
        return (
            f"WITH {retention_anchors(x, p, months)}, "
            "co AS (SELECT ep.client, ep.discharged_on, an.anchor, an.win FROM ep "
            "JOIN an ON ep.enrolled_on = an.enrolled), "
            f"ok AS (SELECT DISTINCT co.client FROM co WHERE {retained('co', 'co')}), "
            "n AS (SELECT COUNT(*) AS k FROM ok), "
            "d AS (SELECT COUNT(DISTINCT client) AS k FROM co) "
            "SELECT n.k, d.k, d.k, n.k FROM n, d"
        )

    return query


def q_mean_dose_mg(x: Dialect, p: Period) -> str:
    return _with(ld=last_doses(x, p)) + (
        f"SELECT {_ZERO.format('mg')}, COUNT(*), COUNT(*), COUNT(*) FROM ld"
    )


def q_adequate_dose_share(x: Dialect, p: Period) -> str:
    ok = f"CASE WHEN mg >= {ADEQUATE_DOSE_MG} THEN 1 ELSE 0 END"
    return _with(ld=last_doses(x, p)) + (
        f"SELECT {_ZERO.format(ok)}, COUNT(*), COUNT(*), {_ZERO.format(ok)} FROM ld"
    )


def _positive(x: Dialect, p: Period, split: str = "") -> str:
    ctes = {"s": samples(x, p)}
    where = _split(x, p, ctes, "s", split)
    return _with(**ctes) + (
        f"SELECT {_ZERO.format('s.pos')}, COUNT(*), COUNT(DISTINCT s.client), "
        "COUNT(DISTINCT CASE WHEN s.pos = 1 THEN s.client END) FROM s " + where
    )


def q_opiate_positive_rate(x: Dialect, p: Period) -> str:
    return _positive(x, p)


def q_takehome_opiate_positive_rate(x: Dialect, p: Period) -> str:
    return _positive(x, p, "takehome")


def q_clinic_only_opiate_positive_rate(x: Dialect, p: Period) -> str:
    return _positive(x, p, "clinic")


def methadone_samples(x: Dialect, p: Period) -> str:
    """Urine samples of P tested for methadone and EDDP, `neg` 1 when both are negative
    (labs.flags)."""
    return (
        f"SELECT client, sample, CASE WHEN {METHADONE_NEGATIVE} THEN 1 ELSE 0 END AS neg "
        f"FROM ({urine_samples(x, p)}) u WHERE {METHADONE_JUDGED}"
    )


def q_takehome_methadone_negative_rate(x: Dialect, p: Period) -> str:
    ctes = {"m": methadone_samples(x, p)}
    where = _split(x, p, ctes, "m", "takehome")
    return _with(**ctes) + (
        f"SELECT {_ZERO.format('m.neg')}, COUNT(*), COUNT(DISTINCT m.client), "
        "COUNT(DISTINCT CASE WHEN m.neg = 1 THEN m.client END) FROM m " + where
    )


def _tested(test: str) -> Callable[[Dialect, Period], str]:
    def query(x: Dialect, p: Period) -> str:
        since = x.d(p.end - timedelta(days=364))
        return _with(
            a=active(x, p),
            t=f"SELECT DISTINCT client FROM itest WHERE test = '{test}' "
            f"AND day BETWEEN {since} AND {x.d(p.end)}",
        ) + (
            "SELECT COUNT(t.client), COUNT(*), COUNT(*), COUNT(t.client) "
            "FROM a LEFT JOIN t ON t.client = a.client"
        )

    return query


def q_hiv_new_positive(x: Dialect, p: Period) -> str:
    return _with(
        f="SELECT client, MIN(day) AS first_on FROM itest "
        "WHERE test = 'hiv' AND result = 'positive' GROUP BY client"
    ) + (f"SELECT COUNT(*), NULL, COUNT(*), COUNT(*) FROM f WHERE {_between(x, 'first_on', p)}")


def in_treatment_on(day: str, ep: str = "ep") -> str:
    """The episode is in treatment on `day` (an SQL date): enrolled on or before it and not
    discharged on or before it."""
    return (
        f"{ep}.enrolled_on <= {day} AND ({ep}.discharged_on IS NULL OR {ep}.discharged_on > {day})"
    )


def no_dose(first: str, last: str, ep: str = "ep") -> str:
    """No dose of the episode's client dated from `first` to `last` (SQL dates)."""
    return (
        f"NOT EXISTS (SELECT 1 FROM dose nd WHERE nd.client = {ep}.client "
        f"AND nd.day BETWEEN {first} AND {last})"
    )


def lost_in(x: Dialect, p: Period, ep: str = "ep") -> str:
    """The client of an episode in treatment on P's first day is lost to follow-up on some
    day D of P: in treatment on D (D before discharge), enrolled at least LTFU_DAYS - 1 days
    before D, and no dose from D - (LTFU_DAYS - 1) to D. Such a D exists exactly when it is
    the last day checked (hi) or the day before one of the client's doses in (lo, hi]: a run
    of days without a dose only grows until the next dose."""
    n = LTFU_DAYS
    end = x.d(p.end)
    lo = x.greatest(x.d(p.start), x.plus(f"{ep}.enrolled_on", n - 1))
    hi = x.least(end, f"COALESCE({x.plus(f'{ep}.discharged_on', -1)}, {end})")
    before_dose = (
        f"EXISTS (SELECT 1 FROM dose bd WHERE bd.client = {ep}.client AND bd.day > {lo} "
        f"AND bd.day <= {hi} AND NOT EXISTS (SELECT 1 FROM dose nd WHERE "
        f"nd.client = bd.client AND nd.day BETWEEN {x.plus('bd.day', -n)} "
        f"AND {x.plus('bd.day', -1)}))"
    )
    return f"({lo} <= {hi} AND ({no_dose(x.plus(hi, 1 - n), hi, ep)} OR {before_dose}))"


def lost_on(x: Dialect, day: date, ep: str = "ep") -> str:
    """The episode's client is lost to follow-up on `day`: in treatment on it, enrolled at
    least LTFU_DAYS - 1 days before it, and no dose on it nor on the LTFU_DAYS - 1 days
    before it."""
    since = x.d(day - timedelta(days=LTFU_DAYS - 1))
    return (
        f"{in_treatment_on(x.d(day), ep)} AND {ep}.enrolled_on <= {since} "
        f"AND {no_dose(since, x.d(day), ep)}"
    )


def q_lost_to_follow_up_rate(x: Dialect, p: Period) -> str:
    return _with(
        c=f"SELECT client, MAX(CASE WHEN {lost_in(x, p)} THEN 1 ELSE 0 END) AS lost FROM ep "
        f"WHERE {in_treatment_on(x.d(p.start))} GROUP BY client"
    ) + (f"SELECT {_ZERO.format('lost')}, COUNT(*), COUNT(*), {_ZERO.format('lost')} FROM c")


def q_return_to_care_rate(x: Dialect, p: Period) -> str:
    back = "CASE WHEN a.client IS NULL THEN 0 ELSE 1 END"
    return _with(
        l=f"SELECT DISTINCT client FROM ep WHERE {lost_on(x, p.start - timedelta(days=1))}",
        a=active(x, p),
    ) + (
        f"SELECT {_ZERO.format(back)}, COUNT(*), COUNT(*), {_ZERO.format(back)} "
        "FROM l LEFT JOIN a ON a.client = l.client"
    )


def q_takehome_clients(x: Dialect, p: Period) -> str:
    return _with(t=takehome(x, p)) + "SELECT COUNT(*), NULL, COUNT(*), COUNT(*) FROM t"


QUERIES: dict[str, Callable[[Dialect, Period], str]] = {
    "active_clients": q_active_clients,
    "adherence": q_adherence,
    "retention_3m": _retention(3),
    "retention_6m": _retention(6),
    "retention_12m": _retention(12),
    "lost_to_follow_up_rate": q_lost_to_follow_up_rate,
    "return_to_care_rate": q_return_to_care_rate,
    "mean_dose_mg": q_mean_dose_mg,
    "adequate_dose_share": q_adequate_dose_share,
    "opiate_positive_rate": q_opiate_positive_rate,
    "hiv_tested_12m": _tested("hiv"),
    "hcv_tested_12m": _tested("hcv"),
    "hbv_tested_12m": _tested("hbv"),
    "syphilis_tested_12m": _tested("syphilis"),
    "tb_screened_12m": _tested("tb"),
    "hiv_new_positive": q_hiv_new_positive,
    "takehome_clients": q_takehome_clients,
    "takehome_adherence": q_takehome_adherence,
    "clinic_only_adherence": q_clinic_only_adherence,
    "takehome_opiate_positive_rate": q_takehome_opiate_positive_rate,
    "clinic_only_opiate_positive_rate": q_clinic_only_opiate_positive_rate,
    "takehome_methadone_negative_rate": q_takehome_methadone_negative_rate,
}
