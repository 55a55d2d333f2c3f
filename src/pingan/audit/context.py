"""Who is acting, from where: set by the middleware for requests, by commands otherwise.

The actor lives in `pingan.core.domain` (the bottom layer, so every action can name it);
the audit chain reads it from there. These names are the audit app's view of it."""

from __future__ import annotations

from pingan.core.domain import Actor, acting, acting_as, current_actor

__all__ = ["Actor", "acting", "acting_as", "current_actor"]
