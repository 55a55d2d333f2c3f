"""The core indicators in DuckDB, from facts per client and month computed once per run.

At national scale (hundreds of thousands of clients, a hundred million dose rows) running
the queries of `sql.py` one by one re-reads the month's doses for every indicator and
joins each dose to the episodes. This module computes the SAME definitions (the
engine-agreement tests prove identical numbers against sql.py on SQLite, PostgreSQL and
DuckDB) from a few small tables built for each month in one pass over its doses:

    cm(client, mask, th, lm)   one row per client dosed in the month: `mask` has bit k set
                               when the client was dosed on day k (0-based) of the month,
                               `th` when one of those doses was take-home, `lm` packs the
                               last dose (day · 65536 + mg)
    cm_prev                    the month before (retention windows reach into it): the
                               previous month's cm in a trend; before the first month only
                               the day masks of the clients whose windows look there
    ept1, eptn(client, lo, hi) each episode clipped to the month: days lo..hi (0-based), for
                               clients with one episode (no grouping needed after the join)
                               and with several
    sm(client, n, npos)        the client's opioid-tested urine samples and positive ones
    tm(client, hiv, hcv, ..., first_on)
                               built ONCE for the whole range from one scan of the tests:
                               per test of TESTED (a column each) a bit per month whose
                               365-day window holds one of the client's tests; the first
                               positive HIV test

Days dosed while in treatment are then interval arithmetic on bits (popcount of the mask
within lo..hi) instead of a join of every dose to the episodes. Every table is keyed by the
client alone, so with integer client codes DuckDB groups and joins through its perfect hash
table (an array indexed by the code). One dose per client per day (the Dose model's
constraint) is what makes a day's bit and a dose row the same thing.

Why a trend is still month by month for doses and urine: the files are in date order, so
each month's query reads only that month's row groups and the twelve together read the
file once. Grouping all months in ONE query by (client, month) was measured slower by far
on the national benchmark (12-26 s against about 0.5 s a month): 3.3 million groups go
through DuckDB's general hash table, where 330,000 clients a month fit its perfect hash
table; one row per client with a column per month (13 BIT_OR / MAX pairs) was slower still.
"""

from __future__ import annotations

from datetime import date, timedelta

from pingan.labs.opioid_sql import is_opioid

from .definitions import ADEQUATE_DOSE_MG, BY_ID, Period, anchors
from .sql import DUCKDB, methadone_samples

RETENTION_MONTHS = (3, 6, 12)
TEST_BLOCK = 60  # months per bit mask of infection tests (a BIGINT holds 63)
# The "tested in the 365 days ending on the month's last day" indicators: id -> test code
# (labs.models.TestKind), the same pairs as sql.QUERIES.
TESTED: dict[str, str] = {
    "hiv_tested_12m": "hiv",
    "hcv_tested_12m": "hcv",
    "hbv_tested_12m": "hbv",
    "syphilis_tested_12m": "syphilis",
    "tb_screened_12m": "tb",
}


def _d(day: date) -> str:
    return f"DATE '{day.isoformat()}'"


def _mi(p: Period) -> int:
    return p.year * 12 + p.month - 1


def _bits(lo: str, hi: str) -> str:
    """The mask of days lo..hi (0-based, inclusive; hi ≤ 30)."""
    return f"((1::BIGINT << (({hi}) + 1)) - (1::BIGINT << ({lo})))"


class Facts:
    """The numbers of every core indicator for the consecutive months first..last, in a
    DuckDB connection that provides the relations ep, dose_all, urine and itest (see
    engines.DuckEngine). Computed on first use, month by month."""

    def __init__(self, con, first: Period, last: Period):
        self.con = con
        self.months = [first.shift(i) for i in range(_mi(last) - _mi(first) + 1)]
        self.first, self.last = first, last
        self._numbers: dict[Period, dict[str, tuple]] | None = None

    def covers(self, period: Period) -> bool:
        return self.first <= period <= self.last

    def numbers(self) -> dict[Period, dict[str, tuple]]:
        """(numerator, denominator, people, people_numerator) per month and indicator,
        zeros where nothing was counted (as the SQL of sql.py gives)."""
        if self._numbers is None:
            zero = {
                ind_id: (0, None, 0, 0) if ind.kind == "count" else (0, 0, 0, 0)
                for ind_id, ind in BY_ID.items()
                if ind.source == "core"
            }
            self._numbers = {}
            # Most clients have one episode: their rows need no grouping by client after the
            # join to the month's doses; the re-enrolled (several rows) are grouped apart.
            self.con.execute(
                "CREATE OR REPLACE TEMP TABLE epk AS "
                "SELECT *, COUNT(*) OVER (PARTITION BY client) AS k FROM ep"
            )
            for table, which in (("ep1", "k = 1"), ("epn", "k > 1")):
                self.con.execute(
                    f"CREATE OR REPLACE TEMP TABLE {table} AS "
                    f"SELECT client, enrolled_on, discharged_on FROM epk WHERE {which}"
                )
            for i, p in enumerate(self.months):
                if i % TEST_BLOCK == 0:
                    self._range_tables(i)
                self._month_tables(p, carry=i > 0)
                self._numbers[p] = {**zero, **self._month_numbers(p, i % TEST_BLOCK)}
        return self._numbers

    def _range_tables(self, block: int) -> None:
        """Infection tests, read once (one scan of the file) for up to TEST_BLOCK months from
        `block` on instead of once a month; `first_on` is each client's first positive HIV
        test. `tm` gives each client, per test, a bit per
        month of the block whose 365-day window (end of month − 364 .. end of month) holds
        one of their tests: a test on day t counts for the months from t's month up to the
        last month ending on or before t + 364."""
        run = self.con.execute
        months = self.months[block : block + TEST_BLOCK]
        base, n = _mi(months[0]), len(months)
        since, until = _d(months[0].end - timedelta(days=364)), _d(months[-1].end)
        later = "day + 364"
        k_to = (
            f"year({later}) * 12 + month({later}) - 1 - {base} "
            f"- CASE WHEN {later} = last_day({later}) THEN 0 ELSE 1 END"
        )
        tests = ", ".join(f"'{t}'" for t in TESTED.values())
        in_window = f"day BETWEEN {since} AND {until} AND test IN ({tests})"
        run(
            "CREATE OR REPLACE TEMP TABLE tm AS SELECT client, "
            + ", ".join(
                f"COALESCE(BIT_OR(m) FILTER (WHERE test = '{t}'), 0) AS {t}"
                for t in TESTED.values()
            )
            + ", MIN(day) FILTER (WHERE test = 'hiv' AND result = 'positive') AS first_on "
            f"FROM (SELECT client, test, day, result, CASE WHEN {in_window} AND lo <= hi THEN "
            f"{_bits('lo', 'hi')} ELSE 0 END AS m FROM (SELECT client, test, day, result, "
            f"GREATEST(year(day) * 12 + month(day) - 1 - {base}, 0) AS lo, "
            f"LEAST({k_to}, {n - 1}) AS hi FROM itest)) GROUP BY client"
        )

    def _month_tables(self, p: Period, carry: bool) -> None:
        run = self.con.execute
        start, after = _d(p.start), _d(p.end + timedelta(days=1))
        # Retention cohorts of this month: enrolment day, anchor day (always in this month)
        # and the 30-day window ending on it, as day offsets (the window may begin in the
        # month before: w_lo..w_hi there, then a_lo..a_hi here).
        rows = []
        for m in RETENTION_MONTHS:
            for enrolled, anchor, win in anchors(p.shift(-m), m):
                w = Period.of(win)
                here = w == p
                rows.append(
                    f"({m}, {_d(enrolled)}, {_d(anchor)}, {(win - w.start).days if here else 0}, "
                    f"{(anchor - p.start).days}, {'false' if here else 'true'}, "
                    f"{(win - w.start).days}, {w.days - 1})"
                )
        run(
            f"CREATE OR REPLACE TEMP TABLE an AS SELECT * FROM (VALUES {', '.join(rows)}) "
            "t(m, enrolled, anchor, a_lo, a_hi, before, w_lo, w_hi)"
        )
        if carry:
            run("DROP TABLE IF EXISTS cm_prev")
            run("ALTER TABLE cm RENAME TO cm_prev")
        else:  # the month before the range: only the day masks retention reads (no dose
            # amounts or kinds to decode), only for the clients the windows look at
            before = p.shift(-1)
            run(
                "CREATE OR REPLACE TEMP TABLE cm_prev AS SELECT client, "
                f"BIT_OR(1::BIGINT << (day - {_d(before.start)})) AS mask FROM dose_all "
                f"WHERE day BETWEEN {_d(before.start)} AND {_d(before.end)} "
                "AND client IN (SELECT ep.client FROM ep JOIN an ON ep.enrolled_on = "
                "an.enrolled WHERE an.before) GROUP BY client"
            )
        run("CREATE OR REPLACE TEMP TABLE cm AS " + self._doses(p))
        for table, source in (("ept1", "ep1"), ("eptn", "epn")):
            run(
                f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT client, "
                f"GREATEST(enrolled_on, {start}) - {start} AS lo, "
                f"LEAST(COALESCE(discharged_on, {after}), {after}) - {start} - 1 AS hi "
                f"FROM {source} WHERE enrolled_on <= {_d(p.end)} AND (discharged_on IS NULL "
                f"OR (discharged_on > {start} AND discharged_on > enrolled_on))"
            )
        run(
            "CREATE OR REPLACE TEMP TABLE sm AS SELECT client, COUNT(*) AS n, SUM(pos) AS npos "
            "FROM (SELECT client, MAX(CASE WHEN result = 'positive' THEN 1 ELSE 0 END) AS pos "
            f"FROM urine WHERE day BETWEEN {start} AND {_d(p.end)} "
            f"AND {is_opioid()} GROUP BY client, sample) GROUP BY client"
        )

    @staticmethod
    def _doses(p: Period) -> str:
        """One month's doses per client. A take-home dose sets the day's bit 32 places
        higher as well, so one BIT_OR gives both masks (days dosed, days taken home)."""
        start = _d(p.start)
        return (
            "SELECT client, m & 4294967295 AS mask, m >> 32 <> 0 AS th, lm "
            "FROM (SELECT client, BIT_OR(CASE WHEN kind = 'takehome' THEN 4294967297::BIGINT "
            f"ELSE 1::BIGINT END << (day - {start})) AS m, "
            f"MAX((day - {start}) * 65536 + mg) AS lm "
            f"FROM dose_all WHERE day BETWEEN {start} AND {_d(p.end)} GROUP BY client)"
        )

    def _month_numbers(self, p: Period, k: int) -> dict[str, tuple]:
        out: dict[str, tuple] = {}
        one = self.con.execute
        n, mg, adequate, th, *tested = one(
            "SELECT COUNT(*), COALESCE(SUM(lm % 65536), 0), "
            f"COUNT(*) FILTER (WHERE lm % 65536 >= {ADEQUATE_DOSE_MG}), "
            "COUNT(*) FILTER (WHERE th), "
            + ", ".join(f"COUNT(*) FILTER (WHERE (tm.{t} >> {k}) & 1 = 1)" for t in TESTED.values())
            + " FROM cm LEFT JOIN tm ON tm.client = cm.client"
        ).fetchone()
        out["active_clients"] = (n, None, n, n)
        out["takehome_clients"] = (th, None, th, th)
        out["mean_dose_mg"] = (mg, n, n, n)
        out["adequate_dose_share"] = (adequate, n, n, adequate)
        split = {True: "takehome_", False: "clinic_only_"}
        for name, query in (
            (
                "adherence",
                "WITH ad AS (SELECT COALESCE(cm.th, false) AS th, e.hi - e.lo + 1 AS days, "
                f"COALESCE(BIT_COUNT(cm.mask & {_bits('e.lo', 'e.hi')}), 0) AS dd "
                "FROM ept1 e LEFT JOIN cm ON cm.client = e.client "
                "UNION ALL SELECT COALESCE(ANY_VALUE(cm.th), false), SUM(e.hi - e.lo + 1), "
                f"SUM(COALESCE(BIT_COUNT(cm.mask & {_bits('e.lo', 'e.hi')}), 0)) "
                "FROM eptn e LEFT JOIN cm ON cm.client = e.client GROUP BY e.client) "
                "SELECT th, SUM(dd), SUM(days), COUNT(*), COUNT(*) FILTER (WHERE dd > 0) "
                "FROM ad GROUP BY th",
            ),
            (
                "opiate_positive_rate",
                "SELECT COALESCE(cm.th, false), SUM(sm.npos), SUM(sm.n), COUNT(*), "
                "COUNT(*) FILTER (WHERE sm.npos > 0) "
                "FROM sm LEFT JOIN cm ON cm.client = sm.client GROUP BY ALL",
            ),
        ):
            total = [0, 0, 0, 0]
            for flag, *numbers in one(query).fetchall():
                out[split[flag] + name] = tuple(numbers)
                total = [a + b for a, b in zip(total, numbers, strict=True)]
            out[name] = tuple(total)
        out["takehome_methadone_negative_rate"] = one(
            "SELECT COALESCE(SUM(neg), 0), COUNT(*), COUNT(DISTINCT mn.client), "
            "COUNT(DISTINCT mn.client) FILTER (WHERE neg = 1) "
            f"FROM ({methadone_samples(DUCKDB, p)}) mn JOIN cm ON cm.client = mn.client "
            "WHERE cm.th"
        ).fetchone()
        for ind_id, count in zip(TESTED, tested, strict=True):
            out[ind_id] = (count, n, n, count)
        (n,) = one(
            f"SELECT COUNT(*) FROM tm WHERE first_on BETWEEN {_d(p.start)} AND {_d(p.end)}"
        ).fetchone()
        out["hiv_new_positive"] = (n, None, n, n)
        for m, ok, n in one(
            "WITH co AS (SELECT an.m, ep.client, "
            "(ep.discharged_on IS NULL OR ep.discharged_on > an.anchor) AND ("
            f"COALESCE(ca.mask & {_bits('an.a_lo', 'an.a_hi')}, 0) <> 0 OR (an.before "
            f"AND COALESCE(cw.mask & {_bits('an.w_lo', 'an.w_hi')}, 0) <> 0)) AS ok "
            "FROM ep JOIN an ON ep.enrolled_on = an.enrolled "
            "LEFT JOIN cm ca ON ca.client = ep.client "
            "LEFT JOIN cm_prev cw ON cw.client = ep.client) "
            "SELECT m, COUNT(DISTINCT client) FILTER (WHERE ok), COUNT(DISTINCT client) "
            "FROM co GROUP BY m"
        ).fetchall():
            out[f"retention_{m}m"] = (ok, n, n, ok)
        return out
