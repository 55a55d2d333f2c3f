"""Building blocks of the inpatient tests: a unit with beds, a published tariff, an
admission with a given use history."""

from __future__ import annotations

from pingan.inpatient import actions, rules
from pingan.inpatient.models import Bed, TariffVersion


def unit(manager, shared_beds: int = 2, private_beds: int = 1) -> dict[str, list[Bed]]:
    """Room S (shared) and room P (private), beds labelled 1..n."""
    shared = actions.add_room("S", "shared", [str(i + 1) for i in range(shared_beds)], manager)
    private = actions.add_room("P", "private", [str(i + 1) for i in range(private_beds)], manager)
    return {
        "shared": list(shared.beds.order_by("label")),
        "private": list(private.beds.order_by("label")),
    }


def tariff(manager, effective_from, name: str = "2026") -> TariffVersion:
    draft = actions.create_tariff(name, effective_from, manager)
    return actions.publish_tariff(draft, manager)


def history(
    drug: str = "heroin",
    years: int = 0,
    route: str = "smoked",
    amount: str = "low",
    previous: int = 0,
) -> rules.UseHistory:
    return rules.UseHistory(drug, years, route, amount, previous)


def admission(days: int = 7, card: str = "", **use) -> actions.Admission:
    return actions.Admission(
        alias="阿强",
        sex="M",
        birth_year=1982,
        history=history(**use),
        planned_days=days,
        return_card_code=card,
    )
