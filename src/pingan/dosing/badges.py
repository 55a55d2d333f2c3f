"""Badges on the nurse's queue that come from other apps: today's random urine test (labs),
a suspended take-home (takehome), an appointment on this day (services).

Dosing may import none of those apps (docs/architecture.md, "Layers"), so they reach the
queue the way the closed days reach core: a provider is registered when the apps start
(`pingan.ops.apps.OpsConfig.ready`, the top layer, which may import them all), and the
queue asks every registered provider once for all its clients. A provider answers with
one query whatever the number of clients, so the queue stays a fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Badge:
    """One thing the nurse should know on this row today."""

    kind: str  # stable name for screens and tests: "urine", "appointment", "takehome_suspended"
    label: str  # short, already translated
    detail: str = ""  # a sentence with the particulars (reason, note), already translated
    tone: str = "info"  # "info", "warn" or "hold": how loud the badge is


# (day, client ids) -> badges by client id; clients with none may be left out.
Provider = Callable[[date, list[int]], dict[int, list[Badge]]]

_providers: dict[str, Provider] = {}


def register(name: str, provider: Provider) -> None:
    """Add (or, under the same name, replace) a source of badges."""
    _providers[name] = provider


def registered() -> list[str]:
    return sorted(_providers)


def for_clients(day: date, client_ids: Iterable[int]) -> dict[int, list[Badge]]:
    """Every provider's badges for these clients on `day`, in the order of registration."""
    ids = list(client_ids)
    found: dict[int, list[Badge]] = {}
    if not ids:
        return found
    for provider in _providers.values():
        for client_id, badges in provider(day, ids).items():
            found.setdefault(client_id, []).extend(badges)
    return found
