"""Who is acting, from where, and in which centre: set by the middleware for requests, by
commands otherwise.

The actor lives in `pingan.core.domain` (the bottom layer, so every action can name it);
the audit chain reads it from there. These names are the audit app's view of it.

The centre picks the chain an entry joins (`log.record`): a `centre=` given to `record`,
else the centre set here (`in_centre`), else the region's chain. The request's centre is
set by `pingan.region.middleware`, which knows where the staff member works; this layer
cannot ask.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from pingan.core.domain import Actor, acting, acting_as, current_actor
from pingan.core.models import Centre

__all__ = [
    "Actor",
    "CentreRef",
    "acting",
    "acting_as",
    "centre_id",
    "current_actor",
    "current_centre_id",
    "in_centre",
]

# A centre, its id, its code, or None for the region's chain.
CentreRef = Centre | int | str | None

_centre: contextvars.ContextVar[CentreRef | Callable[[], CentreRef]] = contextvars.ContextVar(
    "pingan_audit_centre", default=None
)


@contextmanager
def in_centre(centre: CentreRef | Callable[[], CentreRef]) -> Iterator[None]:
    """Entries recorded inside the block join `centre`'s chain (None: the region's), unless
    `record` is given a centre of its own. A callable is asked only when an entry is
    recorded, so a request that writes nothing looks nothing up."""
    token = _centre.set(centre)
    try:
        yield
    finally:
        _centre.reset(token)


def centre_id(centre: CentreRef) -> int | None:
    """The id of a centre given as a row, an id or a code (ValueError for an unknown code)."""
    if centre is None or isinstance(centre, int):
        return centre
    if isinstance(centre, Centre):
        return centre.pk
    found = Centre.objects.filter(code=centre).values_list("pk", flat=True).first()
    if found is None:
        raise ValueError(f"no centre has code {centre!r}")
    return found


def current_centre_id() -> int | None:
    """The centre set by `in_centre` around this code, or None (the region's chain)."""
    value = _centre.get()
    return centre_id(value() if callable(value) else value)
