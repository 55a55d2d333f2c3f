"""The one clock every action, rule and query reads the time from.

Nothing in Ping An calls `timezone.now()`, `date.today()` or `datetime.now()` directly: a
dose, a PIN run or a report asks `clock.now()` (an aware instant) or `clock.today()` (the
date in the centre's time zone, the unit every clinical rule counts in). Tests move the
clock with `clock.frozen(instant)` or the `clock` fixture, so no test depends on the hour or
the date it runs at, and the China/UTC date split (16:00–24:00 UTC) is tested on purpose
rather than by accident.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta

from django.utils import timezone

_source: Callable[[], datetime] | None = None
_lock = threading.Lock()


def now() -> datetime:
    """The current instant, timezone-aware."""
    source = _source
    return source() if source is not None else timezone.now()


def today() -> date:
    """Today's date in the centre's time zone (a "day" in every clinical rule)."""
    return timezone.localdate(now())


def localtime() -> datetime:
    """The current instant in the centre's time zone (for hours: the SMS hour, the queue)."""
    return timezone.localtime(now())


def _aware(instant: datetime) -> datetime:
    if timezone.is_naive(instant):
        return timezone.make_aware(instant)
    return instant


class FrozenClock:
    """A clock that stands still until told to move: `advance(minutes=5)`, `set(instant)`."""

    def __init__(self, instant: datetime) -> None:
        self.instant = _aware(instant)

    def __call__(self) -> datetime:
        return self.instant

    def set(self, instant: datetime) -> None:
        self.instant = _aware(instant)

    def advance(self, delta: timedelta | None = None, **parts: float) -> datetime:
        self.instant += delta if delta is not None else timedelta(**parts)
        return self.instant


@contextmanager
def frozen(instant: datetime) -> Iterator[FrozenClock]:
    """Within the block every reader of this clock sees `instant` (naive means local time)."""
    global _source
    clock = FrozenClock(instant)
    with _lock:
        previous, _source = _source, clock
    try:
        yield clock
    finally:
        with _lock:
            _source = previous
