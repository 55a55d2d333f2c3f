"""The core indicators in DuckDB, for a range of months at once, from per-client-month facts.

At national scale (hundreds of thousands of clients, a hundred million dose rows) running
the queries of `sql.py` one by one, month by month, re-reads the doses for every indicator
and joins each dose to the episodes. This module computes the SAME definitions (the
engine-agreement tests prove identical numbers against sql.py on SQLite, PostgreSQL and
DuckDB, and a trend against the months computed one by one) from a few tables built ONCE
for the whole range, each by one query:

    fd(mi, ps, client, m, lm)  one row per client and month with a dose: bit k of `m` set
                               when the client was dosed on day k (0-based) of the month,
                               bit 32 + k when that dose was taken home; `lm` packs the
                               month's last dose (day · 65536 + mg). Also the days just
                               before the range (DOSE_LOOKBACK_DAYS: retention windows and
                               follow-up look back), day bits only.
    fu(mi, client, n, npos, mn, mneg)
                               per client and month, the urine samples with an opioid
                               result (n) and positive (npos), judged for methadone (mn)
                               and negative for it (mneg): rows of `usample` (one per
                               sample with its counts, `sample_counts`) through the
                               conditions of sql.urine_samples (OPIOID_TESTED, ...)
    gap(client, a, b)          the runs of LTFU_DAYS or more days without a dose (a..b, the
                               days between two doses, or open at either end)
    epm(client, k, mi, lo, hi, at_start)
                               each episode for every month it has a day in treatment in,
                               with those days lo..hi (sql.clipped) and whether it was in
                               treatment on the month's first day; k episodes of the client
    tm(client, hiv, ...)       per test of TESTED a bit per month whose 365-day window holds
                               one of the client's tests (`test_window_rows`; written with
                               the records per 60-month block, `test_block_rows`)

Every month's numerators and denominators are then derived from these tables by queries
grouped by month: days dosed while in treatment are a popcount of the month's mask within
the episode's days (no join of doses to episodes), retention and follow-up read the masks
of the month and the one or two before it. The clipping of episodes to a month
(`sql.clipped`) and what a urine sample counts as (`sql.OPIOID_TESTED` and its siblings)
come from sql.py, the constants from definitions.py.

The rows of fd for whole months and of fu are each client's records of a calendar month
(`dose_month_rows`, `urine_month_rows`): written once beside the records
(engines.write_facts_files, which export_parquet calls), they are read instead of grouping
92 million doses and 20 million urine results again for every query; without a current
file (the records changed since, or files from elsewhere) the same expressions run over the
records, per month as below.

Why the dose and urine facts are one UNION ALL branch per month, not one GROUP BY (client,
month): with integer client codes a branch groups through DuckDB's perfect hash table (an
array indexed by the code, ~330,000 clients, cache-friendly), and, the files being in date
order, it reads only its month's row groups; the plain GROUP BY (client, month) over the
year was measured at 1.4-2.2 s against 1.0 s for the branches on the national benchmark
(docs/performance.md). Either way it is one query and one pass over the range's doses.
"""

from __future__ import annotations

from datetime import date, timedelta

from pingan.labs.flags import is_methadone
from pingan.labs.opioid_sql import is_opioid

from .definitions import (
    ADEQUATE_DOSE_MG,
    BY_ID,
    DOSE_LOOKBACK_DAYS,
    LTFU_DAYS,
    Period,
    anchors,
)
from .sql import (
    DUCKDB,
    METHADONE_JUDGED,
    METHADONE_NEGATIVE,
    OPIOID_POSITIVE,
    OPIOID_TESTED,
    clipped,
)

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
DAYS = 2147483647  # the 31 day bits of fd.m
# A few rows summed per client and month, by a window and its first row, not GROUP BY:
# with integer client codes DuckDB groups through a perfect hash table, an array over
# every possible code (2^22 slots, DuckEngine), which costs ~60 ms to set up and scan
# for the 2,000 re-enrolled clients of a month at national scale, against 1.5 ms.
PER_CLIENT = "WINDOW w AS (PARTITION BY mi, client)"
# The columns of a row of sql.urine_samples, which its conditions read.
SAMPLE_COUNTS = ("opioid_results", "opioid_positive", "methadone_results", "methadone_negative")
# Stand-ins for "no dose before / after the files' range" at the open ends of a gap.
FAR_PAST, FAR_FUTURE = "DATE '1900-01-01'", "DATE '2999-12-31'"


# A client's doses of a month as one BIT_OR and one MAX over the day's offset {0} in the
# month (0-based): bit k when dosed on day k, bit 32 + k too when that dose was taken home;
# the last dose as day · 65536 + mg.
_DOSE_BITS = (
    "BIT_OR(CASE WHEN kind = 'takehome' THEN 4294967297::BIGINT ELSE 1::BIGINT END << ({0}))"
)
_LAST_DOSE = "MAX(({0}) * 65536 + mg)::BIGINT"


def dose_month_rows(doses: str = "dose_all", by: str = "client") -> str:
    """Each client's doses per calendar month of the relation `doses` (client, day, mg,
    kind): the rows of `fd` for whole months, the month as mi (year · 12 + month − 1).
    `by` names the columns a client is known by (the facts files: "centre, client")."""
    offset = "dayofmonth(day) - 1"
    return (
        f"SELECT {by}, CAST(year(day) * 12 + month(day) - 1 AS INTEGER) AS mi, "
        f"{_DOSE_BITS.format(offset)} AS m, {_LAST_DOSE.format(offset)} AS lm "
        f"FROM {doses} GROUP BY ALL"
    )


def sample_counts(urine: str = "urine", by: str = "client") -> str:
    """sql.urine_samples for DuckDB over every day of the relation `urine` (client, sample,
    day, analyte, result): one row per sample with an opioid or a methadone result, its day
    and its four counts (SAMPLE_COUNTS), read later through sql.OPIOID_TESTED and its
    siblings. The four counts are summed as one 64-bit number (16 bits each: a sample has a
    handful of results) and unpacked: one aggregate per sample instead of four. A filter on
    `day` reaches the results below the grouping (a sample has one day). `by` as in
    `dose_month_rows`."""
    opioid, methadone = is_opioid(), is_methadone()
    packed = (
        f"CASE WHEN {opioid} THEN CASE WHEN result = 'positive' THEN 65537 ELSE 1 END "
        f"WHEN {methadone} THEN CASE WHEN result = 'negative' THEN {(1 << 48) + (1 << 32)} "
        f"ELSE {1 << 32} END ELSE 0 END"
    )
    return (
        f"SELECT {by}, day, "
        + ", ".join(
            f"CAST((t >> {16 * i}) & 65535 AS USMALLINT) AS {name}"
            for i, name in enumerate(SAMPLE_COUNTS)
        )
        + f" FROM (SELECT {by}, sample, day, SUM({packed})::BIGINT AS t FROM {urine} "
        f"WHERE {opioid} OR {methadone} GROUP BY {by}, sample, day)"
    )


# A client's urine samples (rows of `usample`) as the four counts of `fu`, read through
# the conditions of sql.urine_samples.
_SAMPLE_TOTALS = (
    f"COUNT(*) FILTER (WHERE {OPIOID_TESTED}) AS n, "
    f"COUNT(*) FILTER (WHERE {OPIOID_POSITIVE}) AS npos, "
    f"COUNT(*) FILTER (WHERE {METHADONE_JUDGED}) AS mn, "
    f"COUNT(*) FILTER (WHERE {METHADONE_JUDGED} AND {METHADONE_NEGATIVE}) AS mneg"
)


def urine_month_rows(usample: str = "usample", by: str = "client") -> str:
    """Each client's urine samples per calendar month of the relation `usample`
    (`sample_counts`): the rows of `fu`. `by` as in `dose_month_rows`."""
    return (
        f"SELECT {by}, CAST(year(day) * 12 + month(day) - 1 AS INTEGER) AS mi, "
        f"{_SAMPLE_TOTALS} FROM {usample} GROUP BY ALL"
    )


def test_window_rows(
    base: str, n: int, where: str = "true", itest: str = "itest", by: str = "client"
) -> str:
    """Per client of the relation `itest` (client, day, test, result), a mask per test of
    TESTED: bit k set when month base + k (k < n; months as mi) has one of the client's
    tests in its 365-day window (the month's last day − 364 .. its last day). A test on
    day t counts for the months from t's month up to the last month ending on or before
    t + 364. `base` is an expression of the row (the facts file: `blk * TEST_BLOCK`, one
    row per client and 60-month block a test counts in, `by` then naming the block too);
    `where` narrows the tests read. `by` as in `dose_month_rows`."""
    later = "day + 364"
    month = "year({0}) * 12 + month({0}) - 1"
    lo = f"GREATEST({month.format('day')} - {base}, 0)"
    hi = (
        f"LEAST({month.format(later)} - {base} - "
        f"CASE WHEN {later} = last_day({later}) THEN 0 ELSE 1 END, {n - 1})"
    )
    tests = ", ".join(f"'{t}'" for t in TESTED.values())
    return (
        f"SELECT {by}, "
        + ", ".join(
            f"COALESCE(BIT_OR(m) FILTER (WHERE test = '{t}'), 0) AS {t}" for t in TESTED.values()
        )
        + f" FROM (SELECT *, CASE WHEN {lo} <= {hi} THEN {_bits(lo, hi)} ELSE 0 END AS m "
        f"FROM {itest} WHERE test IN ({tests}) AND {where}) GROUP BY ALL"
    )


def test_block_rows(itest: str = "itest", by: str = "client") -> str:
    """The rows of the facts file test_windows: `test_window_rows` for every aligned block
    of TEST_BLOCK months (blk: mi // TEST_BLOCK) a test counts in (a test counts for 12 or
    13 months, so for one block or two)."""
    month = "year({0}) * 12 + month({0}) - 1"
    blocks = (
        f"SELECT *, CAST(UNNEST(range(({month.format('day')}) // {TEST_BLOCK}, "
        f"({month.format('day + 364')}) // {TEST_BLOCK} + 1)) AS INTEGER) AS blk FROM {itest}"
    )
    return test_window_rows(f"blk * {TEST_BLOCK}", TEST_BLOCK, itest=f"({blocks})", by=f"{by}, blk")


def _d(day: date) -> str:
    return DUCKDB.d(day)


def _mi(p: Period) -> int:
    return p.year * 12 + p.month - 1


def _bits(lo: str, hi: str) -> str:
    """The mask of days lo..hi (0-based, inclusive; 0 <= lo, hi <= 30)."""
    return f"((1::BIGINT << (({hi}) + 1)) - (1::BIGINT << ({lo})))"


def _days_between(m: str, ps: str, first: str, last: str) -> str:
    """The bits of month mask `m` (month starting on date `ps`) for the dates first..last;
    0 when none of them is in that month."""
    lo, hi = f"GREATEST({first} - {ps}, 0)", f"LEAST({last} - {ps}, 30)"
    return f"(CASE WHEN {lo} <= {hi} THEN {m} & {_bits(lo, hi)} ELSE 0 END)"


class Facts:
    """The numbers of every core indicator for the consecutive months first..last, in a
    DuckDB connection that provides the relations ep, dose_all, usample and itest, and
    dmonth / umonth / twin for the facts files it reads (see engines.DuckEngine). Computed on first use, for all months together."""

    def __init__(self, con, first: Period, last: Period, files: frozenset[str] = frozenset()):
        self.con = con
        # Facts files the connection reads: dmonth (dose_month_rows) for "dose_months",
        # umonth (urine_month_rows) for "urine_months", twin (test_block_rows) for
        # "test_windows".
        self.files = files
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
            self._tables()
            found: dict[int, dict[str, tuple]] = {_mi(p): {} for p in self.months}
            for part in (
                self._doses,
                self._tests,
                self._adherence,
                self._urine,
                self._retention,
                self._follow_up,
            ):
                part(found)
            self._numbers = {p: {**zero, **found[_mi(p)]} for p in self.months}
        return self._numbers

    # The facts -------------------------------------------------------------------------
    def _tables(self) -> None:
        run = self.con.execute
        run(
            "CREATE OR REPLACE TEMP TABLE mo AS SELECT * FROM (VALUES "
            + ", ".join(f"({_mi(p)}, {_d(p.start)}, {_d(p.end)})" for p in self.months)
            + ") t(mi, ps, pe)"
        )
        # Most clients have one episode: their rows need no grouping by client after a
        # join; the re-enrolled (several rows) are grouped apart. ep is fixed for the
        # connection's life (engines.DuckEngine), so this is built once for every range.
        run(
            "CREATE TEMP TABLE IF NOT EXISTS epk AS "
            "SELECT *, COUNT(*) OVER (PARTITION BY client) AS k FROM ep"
        )
        # Each episode once for every month of the range it has a day in treatment in
        # (sql.overlaps: from its enrolment's month to the month of the day before its
        # discharge), with those days lo..hi (0-based, sql.clipped) and whether it was in
        # treatment on the month's first day.
        month = "year({0}) * 12 + month({0}) - 1"
        lo, after = clipped(DUCKDB, "mo.ps", "(mo.pe + 1)", "e")
        run(
            "CREATE OR REPLACE TEMP TABLE epm AS SELECT e.client, e.k, mi, "
            f"CAST({lo} - mo.ps AS INTEGER) AS lo, CAST({after} - mo.ps - 1 AS INTEGER) AS hi, "
            "e.enrolled_on <= mo.ps AS at_start FROM (SELECT *, "
            "CAST(UNNEST(range(a, b + 1)) AS INTEGER) AS mi "
            f"FROM (SELECT *, GREATEST({month.format('enrolled_on')}, {_mi(self.first)}) AS a, "
            f"LEAST(COALESCE({month.format('discharged_on - 1')}, {_mi(self.last)}), "
            f"{_mi(self.last)}) AS b FROM epk "
            "WHERE discharged_on IS NULL OR discharged_on > enrolled_on)) e JOIN mo USING (mi)"
        )
        since = self.first.start - timedelta(days=DOSE_LOOKBACK_DAYS)
        branches = [self._dose_branch(p, None) for p in self.months]
        before = Period.of(since)
        while before < self.first:  # the look-back: day bits only
            branches.insert(0, self._dose_branch(before, max(since, before.start)))
            before = before.shift(1)
        run("CREATE OR REPLACE TEMP TABLE fd AS " + " UNION ALL ".join(branches))
        if "urine_months" in self.files:
            fu = f"SELECT mi, client, n, npos, mn, mneg FROM umonth WHERE mi {self._range()}"
        else:
            fu = " UNION ALL ".join(
                f"SELECT {_mi(p)} AS mi, client, {_SAMPLE_TOTALS} FROM usample "
                f"WHERE day BETWEEN {_d(p.start)} AND {_d(p.end)} GROUP BY client"
                for p in self.months
            )
        run(f"CREATE OR REPLACE TEMP TABLE fu AS {fu}")

    def _dose_branch(self, p: Period, since: date | None) -> str:
        """One month's doses per client (`dose_month_rows`, from the file written with the
        records when there is a current one). In the look-back (`since`), day bits only."""
        start = _d(p.start)
        if "dose_months" in self.files:
            if since is None:
                return (
                    f"SELECT {_mi(p)} AS mi, {start} AS ps, client, m, lm FROM dmonth "
                    f"WHERE mi = {_mi(p)}"
                )
            days = f"(m & {_bits((since - p.start).days, 30)})"
            return (
                f"SELECT {_mi(p)} AS mi, {start} AS ps, client, {days} AS m, NULL::BIGINT AS lm "
                f"FROM dmonth WHERE mi = {_mi(p)} AND {days} <> 0"
            )
        if since is None:
            facts = f"{_DOSE_BITS.format(f'day - {start}')} AS m, {_LAST_DOSE.format(f'day - {start}')} AS lm"
            since = p.start
        else:
            facts = f"BIT_OR(1::BIGINT << (day - {start})) AS m, NULL::BIGINT AS lm"
        return (
            f"SELECT {_mi(p)} AS mi, {start} AS ps, client, {facts} FROM dose_all "
            f"WHERE day BETWEEN {_d(since)} AND {_d(p.end)} GROUP BY client"
        )

    def _range(self) -> str:
        return f"BETWEEN {_mi(self.first)} AND {_mi(self.last)}"

    # The numbers -----------------------------------------------------------------------
    def _doses(self, out: dict) -> None:
        for mi, n, mg, adequate, th in self.con.execute(
            "SELECT mi, COUNT(*), COALESCE(SUM(lm % 65536), 0), "
            f"COUNT(*) FILTER (WHERE lm % 65536 >= {ADEQUATE_DOSE_MG}), "
            f"COUNT(*) FILTER (WHERE m >> 32 <> 0) FROM fd WHERE mi {self._range()} GROUP BY mi"
        ).fetchall():
            out[mi]["active_clients"] = (n, None, n, n)
            out[mi]["takehome_clients"] = (th, None, th, th)
            out[mi]["mean_dose_mg"] = (mg, n, n, n)
            out[mi]["adequate_dose_share"] = (adequate, n, n, adequate)

    def _tests(self, out: dict) -> None:
        """Infection tests: a client active in a month counts for a test when their mask of
        `test_window_rows` has the month's bit. From the file written with the records when
        there is a current one (a row per client and 60-month block, no grouping here);
        else the same masks are grouped from the tests (one scan of the file) for up to
        TEST_BLOCK months at a time, relative to the block's first month. New HIV
        positives: each client's first positive HIV test."""
        run = self.con.execute
        # A month without a dose has no active client (nor a row of fd).
        active = {mi: values.get("active_clients", (0,))[0] for mi, values in out.items()}
        for ind_id in TESTED:
            for mi in out:
                out[mi][ind_id] = (0, active[mi], active[mi], 0)

        def count(masks: str, base: str, where: str) -> None:
            rows = run(
                "SELECT fd.mi, "
                + ", ".join(
                    f"COUNT(*) FILTER (WHERE (w.{t} >> (fd.mi - {base})) & 1 = 1)"
                    for t in TESTED.values()
                )
                + f" FROM fd JOIN {masks} WHERE {where} GROUP BY fd.mi"
            ).fetchall()
            for mi, *counts in rows:
                for ind_id, n in zip(TESTED, counts, strict=True):
                    out[mi][ind_id] = (n, active[mi], active[mi], n)

        if "test_windows" in self.files:
            blocks = f"BETWEEN {_mi(self.first) // TEST_BLOCK} AND {_mi(self.last) // TEST_BLOCK}"
            count(
                f"twin w ON w.client = fd.client AND w.blk = fd.mi // {TEST_BLOCK}",
                f"w.blk * {TEST_BLOCK}",
                f"fd.mi {self._range()} AND w.blk {blocks}",
            )
        else:
            for block in range(0, len(self.months), TEST_BLOCK):
                months = self.months[block : block + TEST_BLOCK]
                base, n = _mi(months[0]), len(months)
                since, until = _d(months[0].end - timedelta(days=364)), _d(months[-1].end)
                run(
                    "CREATE OR REPLACE TEMP TABLE tm AS "
                    + test_window_rows(str(base), n, f"day BETWEEN {since} AND {until}")
                )
                count(
                    "tm w ON w.client = fd.client",
                    str(base),
                    f"fd.mi BETWEEN {base} AND {base + n - 1}",
                )
        for mi, n in run(
            "SELECT year(first_on) * 12 + month(first_on) - 1 AS mi, COUNT(*) FROM "
            "(SELECT MIN(day) AS first_on FROM itest WHERE test = 'hiv' "
            "AND result = 'positive' GROUP BY client) "
            f"WHERE first_on BETWEEN {_d(self.first.start)} AND {_d(self.last.end)} "
            "GROUP BY ALL"
        ).fetchall():
            out[mi]["hiv_new_positive"] = (n, None, n, n)

    def _adherence(self, out: dict) -> None:
        """Days in treatment per month from the episodes alone; days dosed while in
        treatment, and the take-home clients' share, from the months' masks joined to
        the client's episodes. Clinic-only figures are the rest."""
        run = self.con.execute

        def added(*queries: str, keys: int = 1) -> dict[tuple, list[int]]:
            """The rows of the queries, their first `keys` columns the key, the rest added."""
            sums: dict[tuple, list[int]] = {}
            for query in queries:
                for row in run(query).fetchall():
                    into = sums.setdefault(tuple(row[:keys]), [0] * (len(row) - keys))
                    for i, value in enumerate(row[keys:]):
                        into[i] += int(value or 0)
            return sums

        # Most clients have one episode (k = 1): their rows are summed as they are. The
        # re-enrolled (k > 1, few) are first summed per client and month (PER_CLIENT). The
        # two parts run as two queries, added here: as one query (a UNION ALL) they cost
        # three to four times as much (docs/performance.md).
        total: dict[int, tuple[int, int]] = {}
        for (mi,), (days, in_month_people, at_start) in added(
            "SELECT mi, SUM(hi - lo + 1), COUNT(*), COUNT(*) FILTER (WHERE at_start) "
            "FROM epm WHERE k = 1 GROUP BY mi",
            "SELECT mi, SUM(d), COUNT(*), COUNT(*) FILTER (WHERE s) FROM "
            "(SELECT mi, SUM(hi - lo + 1) OVER w AS d, BOOL_OR(at_start) OVER w AS s, "
            f"row_number() OVER w AS r FROM epm WHERE k > 1 {PER_CLIENT}) WHERE r = 1 GROUP BY mi",
        ).items():
            total[mi] = (days, in_month_people)
            # In treatment on the first day: the denominator of lost to follow-up.
            out[mi]["lost_to_follow_up_rate"] = (0, at_start, at_start, 0)

        def joined(k: str) -> str:
            return (
                "SELECT fd.mi, fd.client, fd.m >> 32 <> 0 AS th, "
                f"BIT_COUNT(fd.m & {_bits('e.lo', 'e.hi')}) AS dd, e.hi - e.lo + 1 AS days "
                "FROM fd JOIN epm e ON e.client = fd.client AND e.mi = fd.mi "
                f"WHERE fd.mi {self._range()} AND e.k {k}"
            )

        sums = "SUM(dd), SUM(days), COUNT(*), COUNT(*) FILTER (WHERE dd > 0)"
        split = {
            key: tuple(values)
            for key, values in added(
                f"SELECT mi, th, {sums} FROM ({joined('= 1')}) GROUP BY mi, th",
                f"SELECT mi, th, {sums} FROM (SELECT mi, th, SUM(dd) OVER w AS dd, "
                f"SUM(days) OVER w AS days, row_number() OVER w AS r FROM ({joined('> 1')}) "
                f"{PER_CLIENT}) WHERE r = 1 GROUP BY mi, th",
                keys=2,
            ).items()
        }
        for mi in out:
            days, people = total.get(mi, (0, 0))
            th_dd, th_days, th_people, th_with = split.get((mi, True), (0, 0, 0, 0))
            co_dd, _co_days, _co_people, co_with = split.get((mi, False), (0, 0, 0, 0))
            days, people = int(days or 0), int(people or 0)
            out[mi]["takehome_adherence"] = (th_dd, th_days, th_people, th_with)
            out[mi]["clinic_only_adherence"] = (
                co_dd,
                days - th_days,
                people - th_people,
                co_with,
            )
            out[mi]["adherence"] = (th_dd + co_dd, days, people, th_with + co_with)

    def _urine(self, out: dict) -> None:
        """Samples per month, split by whether the client had a take-home dose in it."""
        for (
            mi,
            th,
            npos,
            n,
            people,
            people_pos,
            mneg,
            mn,
            m_people,
            m_people_neg,
        ) in self.con.execute(
            "SELECT fu.mi, t.client IS NOT NULL, SUM(npos), SUM(n), "
            "COUNT(*) FILTER (WHERE n > 0), COUNT(*) FILTER (WHERE npos > 0), "
            "SUM(mneg), SUM(mn), COUNT(*) FILTER (WHERE mn > 0), "
            "COUNT(*) FILTER (WHERE mneg > 0) FROM fu LEFT JOIN (SELECT mi, client "
            "FROM fd WHERE m >> 32 <> 0) t ON t.mi = fu.mi AND t.client = fu.client "
            "GROUP BY ALL"
        ).fetchall():
            name = "takehome_" if th else "clinic_only_"
            numbers = (int(npos), int(n), people, people_pos)
            out[mi][name + "opiate_positive_rate"] = numbers
            total = out[mi].get("opiate_positive_rate", (0, 0, 0, 0))
            out[mi]["opiate_positive_rate"] = tuple(
                a + b for a, b in zip(total, numbers, strict=True)
            )
            if th:
                out[mi]["takehome_methadone_negative_rate"] = (
                    int(mneg),
                    int(mn),
                    m_people,
                    m_people_neg,
                )

    def _retention(self, out: dict) -> None:
        """Each cohort client's masks of the anchor's month and the two before it (the
        30-day window ends on the anchor day, which is always in the month computed)."""
        rows = []
        for p in self.months:
            for m in RETENTION_MONTHS:
                for enrolled, anchor, win in anchors(p.shift(-m), m):
                    rows.append(f"({m}, {_mi(p)}, {_d(enrolled)}, {_d(anchor)}, {_d(win)})")
        run = self.con.execute
        run(
            f"CREATE OR REPLACE TEMP TABLE an AS SELECT * FROM (VALUES {', '.join(rows)}) "
            "t(m, mi, enrolled, anchor, win)"
        )
        dosed = _days_between("fd.m & " + str(DAYS), "fd.ps", "co.win", "co.anchor")
        for m, mi, ok, n in run(
            "WITH co AS (SELECT an.m, an.mi, ep.client, an.anchor, an.win, "
            "(ep.discharged_on IS NULL OR ep.discharged_on > an.anchor) AS stays "
            "FROM ep JOIN an ON ep.enrolled_on = an.enrolled), "
            "ok AS (SELECT DISTINCT co.m, co.mi, co.client FROM co JOIN fd "
            "ON fd.client = co.client AND fd.mi BETWEEN co.mi - 2 AND co.mi "
            f"WHERE co.stays AND {dosed} <> 0), "
            "n AS (SELECT m, mi, COUNT(DISTINCT client) AS k FROM co GROUP BY m, mi), "
            "o AS (SELECT m, mi, COUNT(*) AS k FROM ok GROUP BY m, mi) "
            "SELECT n.m, n.mi, COALESCE(o.k, 0), n.k FROM n LEFT JOIN o USING (m, mi)"
        ).fetchall():
            out[mi][f"retention_{m}m"] = (ok, n, n, ok)

    def _follow_up(self, out: dict) -> None:
        """Lost to follow-up and returned to care, from the runs of LTFU_DAYS or more days
        without a dose (few: most clients are dosed every few days). A run is open before a
        client's first dose of the range (or their whole range, never dosed) and after
        their last, or lies between two consecutive doses: a month's last dose and the next
        month's first (a run inside one month is at most 29 days)."""
        n = LTFU_DAYS
        run = self.con.execute
        since = _d(self.first.start - timedelta(days=DOSE_LOOKBACK_DAYS))
        first = f"(ps + CAST(log2((m & {DAYS}) & -(m & {DAYS})) AS INTEGER))"
        last = f"(ps + CAST(floor(log2(m & {DAYS})) AS INTEGER))"
        # Per client: first and last dose of the range, and whether a run between two
        # doses can reach n days: it needs a month without a dose, or the days after one
        # month's last dose and before the next month's first to add up to n (one of them
        # at least n / 2). Only those clients' months are ordered to find such runs.
        half = (n + 1) // 2
        run(
            f"CREATE OR REPLACE TEMP TABLE gc AS SELECT client, MIN({first}) AS f0, "
            f"MAX({last}) AS l9, BOOL_OR({first} - GREATEST(ps, {since}) >= {half} "
            f"OR last_day(ps) - {last} >= {half}) OR COUNT(*) < MAX(mi) - MIN(mi) + 1 AS mid "
            "FROM fd GROUP BY client"
        )
        run(
            "CREATE OR REPLACE TEMP TABLE gap AS "
            f"WITH r AS (SELECT client, mi, {first} AS f, {last} AS l FROM fd "
            "WHERE client IN (SELECT client FROM gc WHERE mid)), "
            "w AS (SELECT client, f, LAG(l) OVER (PARTITION BY client ORDER BY mi) AS pl FROM r) "
            f"SELECT client, pl + 1 AS a, f - 1 AS b FROM w WHERE f - pl - 1 >= {n} "
            # before the first dose, when it is not in the look-back: relevant only if the
            # range's first day is in it
            f"UNION ALL SELECT client, {FAR_PAST}, f0 - 1 FROM gc "
            f"WHERE f0 >= {_d(self.first.start)} "
            # after the last dose, if it can reach n days by the range's last day
            f"UNION ALL SELECT client, l9 + 1, {FAR_FUTURE} FROM gc "
            f"WHERE l9 + {n} <= {_d(self.last.end)} "
            f"UNION ALL SELECT DISTINCT client, {FAR_PAST}, {FAR_FUTURE} FROM ep "
            "WHERE client NOT IN (SELECT client FROM gc)"
        )
        start = "mo.ps"
        # Lost on a day D of the month: in treatment on D (before discharge), the run
        # holding D began (or the episode did) at least n - 1 days before D.
        lost_from = f"GREATEST(GREATEST(g.a, g.enrolled_on) + {n - 1}, {start})"
        lost_to = "LEAST(g.b, mo.pe, COALESCE(g.discharged_on - 1, mo.pe))"
        run(
            "CREATE OR REPLACE TEMP TABLE eg AS SELECT e.client, e.enrolled_on, "
            "e.discharged_on, g.a, g.b FROM epk e JOIN gap g ON g.client = e.client"
        )
        for mi, lost in run(
            "SELECT mi, COUNT(*) FROM (SELECT DISTINCT mo.mi, g.client FROM eg g, mo "
            f"WHERE g.enrolled_on <= {start} AND (g.discharged_on IS NULL OR "
            f"g.discharged_on > {start}) AND {lost_from} <= {lost_to}) GROUP BY mi"
        ).fetchall():
            _, people, _, _ = out[mi].get("lost_to_follow_up_rate", (0, 0, 0, 0))
            out[mi]["lost_to_follow_up_rate"] = (lost, people, people, lost)
        # Lost on the day before the month: in treatment that day, enrolled and without a
        # dose since at least n - 1 days before it; back if the run ends inside the month.
        day = f"({start} - 1)"
        for mi, lost, back in run(
            "SELECT mi, COUNT(*), COUNT(*) FILTER (WHERE back) FROM (SELECT mo.mi, "
            "BOOL_OR(g.b < mo.pe) OVER w AS back, row_number() OVER w AS r FROM eg g, mo WHERE "
            f"g.enrolled_on <= {day} - {n - 1} AND (g.discharged_on IS NULL OR "
            f"g.discharged_on > {day}) AND g.a <= {day} - {n - 1} AND g.b >= {day} "
            f"{PER_CLIENT}) WHERE r = 1 GROUP BY mi"
        ).fetchall():
            out[mi]["return_to_care_rate"] = (back, lost, lost, back)
