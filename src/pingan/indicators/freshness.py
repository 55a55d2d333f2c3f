"""The indicator sets of each month, computed once and kept until a write changes them.

A month's set is cached under a key made of the month and its *data version*:

- a stamp per month, replaced after the commit of any write to the records the
  indicators read (clients, episodes, consents, doses, urine samples, tests, take-home,
  referrals, services, the detox unit). A row carries its dates, so a new row only
  marks the months it can reach: from the month of its earliest date (today for a row
  without one) up to `REACH_MONTHS`
  after its latest date or today, whichever is later (tests look back 365 days, retention
  a year, an open episode runs on). A changed or deleted row, or one without a date,
  marks every month;
- the doses of the month and of the month before (the retention window reaches back
  into it): their count and last id. A nurse's dose is inserted in raw SQL for its
  one-dose-a-day guard and sends no signal, so the doses themselves are the version.
  Counting a month's doses reads every one of them (millions for a region's year), so
  each process counts them once and then reads only the doses past the last one counted
  (`_tally`); the background pass counts them again in full, and a tally is never used
  for longer than `TALLY_SECONDS`. A dose changed or removed in SQL without a signal (no
  screen does that), or on PostgreSQL one committed after a later id was read, shows
  within that time.

A missing stamp (the cache evicted it, or the server just started) gets a fresh token,
so eviction can only cost a recomputation, never show an unmarked old figure. (In the
server, a month whose set is missing shows the set the last background pass kept in the
database, marked with its time, until the pass has computed it again: `KeptSet`.) Writes made by
another process (an import from the command line) send their signals there; the sets
also expire after `TIMEOUT` seconds, so another process's writes show within that time.

Precomputing: the server (`pingan serve`) starts one background thread
(`start_warming`) that computes the dashboard's and the evaluation's default months when
the server starts and again a moment after each write that changes them, so the first
visitor after a start or a write does not wait for the engines. In a region it computes
them pooled and for every centre (the side-by-side table reads each centre's month).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import fields, replace
from datetime import date, datetime

from django.core.cache import cache
from django.db import connection, models, transaction
from django.db.models import Count, Max
from django.db.models.signals import post_delete, post_save
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from pingan.core import clock
from pingan.core.models import Centre
from pingan.dosing.models import Dose

from . import queries
from .definitions import INDICATORS, IndicatorSet, Period, Result
from .models import KeptSet

log = logging.getLogger(__name__)

TIMEOUT = 3600
# Seconds the warming thread waits after a write, so a burst of writes costs one pass.
SETTLE_SECONDS = 2.0
REWARM_SECONDS = 60.0
REACH_MONTHS = 13
MAX_MARKED = 36  # months; a write reaching further back marks every month instead
WATCHED_APPS = frozenset(
    {"registry", "dosing", "labs", "takehome", "lockbox", "referrals", "services", "inpatient"}
)
# Rows of a watched app that no indicator reads: the stock ledger (a line per dose, receipt
# and adjustment). Each dose writes one; marking the months for it cost a quarter of a
# millisecond of the dose's CPU (docs/performance.md) and recomputed nothing new.
UNWATCHED_MODELS = frozenset({"dosing.stockentry"})
_ALL = "indicators:stamp:all"


def _watched(sender) -> bool:
    meta = sender._meta
    return meta.app_label in WATCHED_APPS and meta.label_lower not in UNWATCHED_MODELS


def _stamp_key(period: Period) -> str:
    return f"indicators:stamp:{period}"


def _token() -> str:
    return uuid.uuid4().hex


def mark(first: date | None, last: date | None = None) -> None:
    """A write has committed that reaches the months from `first`'s to `REACH_MONTHS`
    after `last`'s or today's, whichever is later (every month when `first` is None)."""
    _wake.set()
    start = Period.of(first) if first is not None else None
    end = Period.of(max(last or first or clock.today(), clock.today())).shift(REACH_MONTHS)
    span = None if start is None else (end.year - start.year) * 12 + end.month - start.month
    if span is None or span > MAX_MARKED:
        cache.set(_ALL, _token(), None)
        return
    token = _token()
    cache.set_many({_stamp_key(start.shift(i)): token for i in range(span + 1)}, None)


def _stamps(periods: list[Period]) -> dict[Period, str]:
    keys = {_stamp_key(p): p for p in periods}
    found = cache.get_many([*keys, _ALL])
    overall = found.get(_ALL)
    if overall is None:
        overall = _token()
        cache.set(_ALL, overall, None)
    missing = {k: _token() for k in keys if k not in found}
    if missing:
        cache.set_many(missing, None)
        found.update(missing)
    return {p: f"{overall}.{found[k]}" for k, p in keys.items()}


class _Tally:
    """The doses counted per month, up to the dose `upto` (whose external id is `tag`), in
    one database; counted exactly at `at` and kept up since from the newer ids alone."""

    def __init__(self, upto: int, tag: str, at: float) -> None:
        self.upto, self.tag, self.at = upto, tag, at
        self.months: dict[Period, list[int]] = {}


_tallies: dict[str, _Tally] = {}
_tallies_lock = threading.Lock()
# Seconds a tally is kept up incrementally before the doses are counted again in full (the
# background pass counts them again on each pass).
TALLY_SECONDS = 2 * REWARM_SECONDS + SETTLE_SECONDS


def _per_month(doses) -> dict[Period, list[int]]:
    months: dict[Period, list[int]] = {}
    by_day = doses.values_list("date").annotate(n=Count("id"), last=Max("id")).order_by()
    for day, n, last in by_day:
        seen = months.setdefault(Period.of(day), [0, 0])
        seen[0] += n
        seen[1] = max(seen[1], last)
    return months


def _tally() -> _Tally:
    """This database's tally, brought up to its newest dose. Counting a month's doses reads
    every one of them (a region's year is millions); a new dose has a higher id than those
    counted, so after the first count only the doses past `upto` are read. A tally whose
    last dose is gone or another (a rolled-back test, another database file) or that is
    older than `TALLY_SECONDS` is started again."""
    name = str(connection.settings_dict.get("NAME"))
    t = _tallies.get(name)
    if t is not None and (
        time.monotonic() - t.at > TALLY_SECONDS
        or (t.upto and not Dose.objects.filter(id=t.upto, external_id=t.tag).exists())
    ):
        t = None
    if t is None:
        top = Dose.objects.order_by("-id").values_list("id", "external_id").first()
        t = _tallies[name] = _Tally(
            top[0] if top else 0, str(top[1]) if top else "", time.monotonic()
        )
        return t
    # Read by id alone (a range of the primary key): grouped by date, SQLite would walk
    # the whole date index to find them.
    newer = list(Dose.objects.filter(id__gt=t.upto).order_by("id").values_list("id", "date"))
    if newer:
        for dose_id, day in newer:
            seen = t.months.get(Period.of(day))
            if seen is not None:
                seen[0] += 1
                seen[1] = max(seen[1], dose_id)
        t.upto = newer[-1][0]
        t.tag = str(Dose.objects.values_list("external_id", flat=True).get(id=t.upto))
    return t


def _dose_marks(periods: list[Period]) -> dict[Period, tuple]:
    """(count, last id) of the doses of each month and of the month before it."""
    wanted = sorted({p.shift(-1) for p in periods} | set(periods))
    with _tallies_lock:
        t = _tally()
        missing = [p for p in wanted if p not in t.months]
        if missing:
            counted = _per_month(
                Dose.objects.filter(
                    id__lte=t.upto, date__gte=missing[0].start, date__lte=missing[-1].end
                )
            )
            for p in missing:
                t.months[p] = counted.get(p, [0, 0])
        months = {p: tuple(t.months[p]) for p in wanted}
    return {p: (*months[p.shift(-1)], *months[p]) for p in periods}


def forget_dose_counts() -> None:
    """Count the doses again in full on the next load (the background pass does, so a dose
    changed or removed in SQL without a signal shows within one pass)."""
    with _tallies_lock:
        _tallies.clear()


def _replace(latest: str, key: str, value) -> None:
    """Store `value` under `key`, dropping the entry it supersedes, so the cache holds one
    set per month however often the month is recomputed."""
    previous = cache.get(latest)
    if previous and previous != key:
        cache.delete(previous)
    cache.set_many({key: value, latest: key}, TIMEOUT)


def _scope(centre_id: int | None) -> str:
    """The part of a key naming whose figures they are: one centre's, or the region's."""
    return "region" if centre_id is None else f"centre{int(centre_id)}"


def _latest(period: Period, centre_id: int | None) -> str:
    """The key naming the cache key of the month's last set computed in this process."""
    return f"indicators:latest:{_scope(centre_id)}:{period}"


def _key(period: Period, stamp: str, doses: tuple, centre_id: int | None = None) -> str:
    return f"indicators:set:{_scope(centre_id)}:{period}:{stamp}:{'.'.join(map(str, doses))}"


def warming() -> bool:
    """Whether this process keeps the default months computed in the background (the
    server does, `start_warming`; commands and tests do not)."""
    return _warming is not None and _warming.is_alive()


def _warm_months() -> list[Period]:
    """The months the background pass keeps computed (`warm`): the 12 to last month (the
    trend the dashboard opens on) and this month."""
    return Period.of(clock.today()).last(queries.TREND_MONTHS + 1)


def _warmed(period: Period) -> bool:
    return period in _warm_months()


def month_sets(
    periods: list[Period], centre_id: int | None = None, stale_ok: bool = False, keep: bool = False
) -> list[IndicatorSet]:
    """The full (unsuppressed) set of each month, of one centre when `centre_id` is given
    (the pooled region without it), from the cache when its data version has not moved,
    computed otherwise. A write marks the month for every centre alike.

    With `stale_ok` (the screens), a month a write has moved is not computed while the
    visitor waits when the server's background pass will recompute it anyway (`warming`,
    `_warmed`): its previous set is returned, marked `stale` (the screen says since when
    its figures stand), and the pass is woken. In a server just started, the previous set
    is the one its last pass kept in the database (`KeptSet`): the pass passes `keep`, and
    each set it computes is stored there (a month it finds unchanged is not written
    again). Recomputing a region's month takes seconds to minutes (docs/performance.md,
    regional dashboard); exports never take a stale set."""
    previous_ok = stale_ok and warming()
    if (
        previous_ok
        and all(_warmed(p) for p in periods)
        and not cache.get_many([_latest(p, centre_id) for p in periods])
    ):
        # Nothing of these months computed in this process yet (a server just started):
        # no version can be in the cache, so the doses need not be counted to know the
        # kept sets are what there is (counting 6 million doses takes half a second).
        kept = _kept_sets(periods, centre_id)
        if len(kept) == len(periods):
            _wake.set()
            return [replace(kept[p], stale=True) for p in periods]
    stamps = _stamps(periods)
    doses = _dose_marks(periods)
    keys = {p: _key(p, stamps[p], doses[p], centre_id) for p in periods}
    found = cache.get_many(list(keys.values()))
    in_database = None  # the kept sets of the months missing here, read once when needed
    out = []
    for p in periods:
        latest = _latest(p, centre_id)
        result = found.get(keys[p])
        if result is None and previous_ok and _warmed(p):
            kept = cache.get(cache.get(latest) or "")
            if kept is None:
                if in_database is None:
                    missing = [q for q in periods if keys[q] not in found]
                    in_database = _kept_sets(missing, centre_id)
                kept = in_database.get(p)
            if kept is not None:
                result = replace(kept, stale=True)
                _wake.set()
        if result is None:
            result = queries.month(p) if centre_id is None else queries.month(p, centre_id)
            result.computed_at = clock.now()
            _replace(latest, keys[p], result)
            if keep:
                _keep(result, centre_id)
        out.append(result)
    return out


# Kept sets -----------------------------------------------------------------------------
# The background pass keeps what it computed in the database, so the next server start
# shows those figures (marked) instead of computing every month while the first visitor
# waits: at 10,000 clients the first pass takes about a minute (docs/performance.md).

# Every field of a result but its note, which is kept as its message id.
_FIGURES = tuple(f.name for f in fields(Result) if f.name != "note")


def _as_kept(result: Result) -> dict:
    data = {name: getattr(result, name) for name in _FIGURES}
    if result.note:
        with translation.override("en"):  # the message id, translated again when shown
            data["note"] = str(result.note)
    return data


def _from_kept(data: dict) -> Result:
    note = data.get("note", "")
    figures = {name: data[name] for name in _FIGURES if name in data}
    return Result(**figures, note=gettext_lazy(note) if note else "")


def _keep(result: IndicatorSet, centre_id: int | None) -> None:
    """Store a set the pass has just computed in the database, replacing the month's last."""
    KeptSet.objects.bulk_create(
        [
            KeptSet(
                scope=_scope(centre_id),
                period=str(result.period),
                computed_at=result.computed_at,
                results={k: _as_kept(r) for k, r in result.results.items()},
            )
        ],
        update_conflicts=True,
        unique_fields=["scope", "period"],
        update_fields=["computed_at", "results"],
    )


def _kept_sets(periods: list[Period], centre_id: int | None) -> dict[Period, IndicatorSet]:
    """The sets the last background pass kept for those of the months it kept. A set
    kept by an earlier version that lacks an indicator defined since is not used (the
    month is computed instead)."""
    wanted = {str(p): p for p in periods}
    rows = KeptSet.objects.filter(scope=_scope(centre_id), period__in=list(wanted))
    defined = {ind.id for ind in INDICATORS}
    return {
        wanted[row.period]: IndicatorSet(
            wanted[row.period],
            {k: _from_kept(v) for k, v in row.results.items() if k in defined},
            computed_at=row.computed_at,
        )
        for row in rows
        if defined <= set(row.results)
    }


def behind(sets: list[IndicatorSet]) -> datetime | None:
    """When the oldest previous set among `sets` was computed (None: all are current)."""
    times = [s.computed_at for s in sets if s.stale and s.computed_at is not None]
    return min(times) if times else None


def trend(
    last: Period,
    months: int = queries.TREND_MONTHS,
    centre_id: int | None = None,
    stale_ok: bool = False,
) -> list[IndicatorSet]:
    """The 12 months ending with `last`, as `queries.trend` gives them, kept fresh."""
    return month_sets(last.last(months), centre_id, stale_ok)


def _months(first: Period, last: Period) -> list[Period]:
    out, p = [], first
    while p <= last:
        out.append(p)
        p = p.shift(1)
    return out


def evaluation(
    first: Period, last: Period, centre_id: int | None = None
) -> list[queries.Comparison]:
    """`queries.evaluation(first, last, full=True)` (of one centre when `centre_id` is
    given), kept until a write reaches one of its months."""
    periods = _months(first, last)
    stamps, doses = _stamps(periods), _dose_marks(periods)
    version = "|".join(f"{stamps[p]}:{'.'.join(map(str, doses[p]))}" for p in periods)
    scope = _scope(centre_id)
    key = (
        f"indicators:evaluation:{scope}:{first}:{last}:"
        f"{uuid.uuid5(uuid.NAMESPACE_OID, version).hex}"
    )
    found = cache.get(key)
    if found is None:
        found = (
            queries.evaluation(first, last, full=True)
            if centre_id is None
            else queries.evaluation(first, last, full=True, centre_id=centre_id)
        )
        _replace(f"indicators:latest-evaluation:{scope}:{first}:{last}", key, found)
    return found


def _dates(instance: models.Model, hop: bool = True) -> list[date]:
    """The dates on a row; a row with none (a urine result) takes those of the rows it
    was created with (its sample), when they are at hand."""
    days = []
    for f in instance._meta.concrete_fields:
        # When a row was written (created_at, updated_at) says nothing about the months
        # its facts belong to; only the dates of what it records do.
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            continue
        if isinstance(f, models.DateField):
            value = getattr(instance, f.attname, None)
            if isinstance(value, datetime):
                value = timezone.localtime(value).date() if value.tzinfo else value.date()
            if isinstance(value, date):
                days.append(value)
    if not days and hop:
        for related in instance._state.fields_cache.values():
            if isinstance(related, models.Model):
                days += _dates(related, hop=False)
    return days


def _changed(sender, instance, created: bool = False, **kwargs) -> None:
    if not _watched(sender):
        return
    # A new row reaches the months of its dates (a row with none, like a settings row
    # made on first use, those from today); an edit may have moved them (the old dates
    # are gone by now), so it reaches every month.
    first = last = None
    if created:
        days = _dates(instance) or [clock.today()]
        first, last = min(days), max(days)
    transaction.on_commit(lambda: mark(first, last))


def _deleted(sender, instance, **kwargs) -> None:
    if _watched(sender):
        transaction.on_commit(lambda: mark(None))


def connect() -> None:
    """Called once when the app starts (`IndicatorsConfig.ready`)."""
    post_save.connect(_changed, dispatch_uid="indicators.freshness.saved")
    post_delete.connect(_deleted, dispatch_uid="indicators.freshness.deleted")


def warm() -> None:
    """Compute what the dashboard and the evaluation show first (the 12 months to last
    month, this month, the six months to last month), ahead of the first visitor: pooled,
    and in a region of several centres each centre's too (centre staff see their centre's,
    and a regional officer's side-by-side table reads every centre's month)."""
    forget_dose_counts()
    this = Period.of(clock.today())
    centres = list(Centre.objects.order_by("code").values_list("pk", flat=True))
    scopes = [None, *centres] if len(centres) > 1 else [None]
    for centre_id in scopes:
        month_sets(_warm_months(), centre_id, keep=True)
        evaluation(this.shift(-6), this.shift(-1), centre_id)


_wake = threading.Event()
_warming: threading.Thread | None = None


def _warm_forever() -> None:
    while True:
        # Woken by a write's signal; doses send none, so look again every minute anyway
        # (a pass where nothing changed costs one small query per table of doses).
        _wake.wait(timeout=REWARM_SECONDS)
        time.sleep(SETTLE_SECONDS)
        _wake.clear()
        try:
            warm()
        except Exception:  # the next visitor computes what this pass could not
            log.exception("precomputing the indicators failed")
        finally:
            connection.close()


def start_warming() -> None:
    """Start the one background thread that keeps the default months computed (the
    server calls it; commands and tests compute on demand instead)."""
    global _warming
    if _warming is None:
        _warming = threading.Thread(target=_warm_forever, name="indicators-warm", daemon=True)
        _warming.start()
    _wake.set()
