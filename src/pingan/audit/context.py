"""Who is acting, from where: set by the middleware for requests, by commands otherwise."""

from __future__ import annotations

import contextvars
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    username: str = ""
    role: str = ""
    ip: str = ""


_actor: contextvars.ContextVar[Actor] = contextvars.ContextVar("pingan_actor", default=Actor())


def current_actor() -> Actor:
    return _actor.get()


@contextmanager
def acting_as(actor: Actor):
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        _actor.reset(token)
