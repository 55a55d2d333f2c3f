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


@contextmanager
def acting_user(user):
    """Name the given user as the actor when nothing else has (commands, tests, background
    jobs calling actions directly); a request's actor, set by the middleware, is kept."""
    current = _actor.get()
    if current.username or user is None or not getattr(user, "is_authenticated", False):
        yield current
        return
    from pingan.accounts.roles import role_of

    with acting_as(Actor(user.get_username(), role_of(user), current.ip)) as actor:
        yield actor
