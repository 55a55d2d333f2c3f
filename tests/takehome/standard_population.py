"""A small centre for the standard's impact tests: five clients whose days at home the draft
below changes one way, the other way, or not at all (the clock frozen at MONDAY)."""

from __future__ import annotations

from datetime import timedelta

from takehome_factories import add_sample

from pingan.core import clock
from pingan.dosing.models import Dose
from pingan.registry.models import Client, Episode
from pingan.takehome.standard import default_document


def add_client(code: str, day_of_treatment: int, missed_days_back: tuple[int, ...] = ()) -> Client:
    """In treatment for `day_of_treatment` days, dosed every day but those `missed_days_back`
    days ago, a negative urine sample every week."""
    today = clock.today()
    client = Client.objects.create(code=code, alias=code, sex="M", birth_year=1980)
    enrolled = today - timedelta(days=day_of_treatment)
    Episode.objects.create(client=client, enrolled_on=enrolled)
    Dose.objects.bulk_create(
        Dose(
            client=client,
            date=today - timedelta(days=back),
            mg=60,
            mg_in_clinic=60,
            strength_mg_per_ml=1,
            volume_ml=60,
            given_at=clock.now(),
        )
        for back in range(1, day_of_treatment + 1)
        if back not in missed_days_back
    )
    for back in range(3, day_of_treatment, 7):
        add_sample(client, today - timedelta(days=back), "negative")
    return client


def population() -> dict[str, Client]:
    """Under the shipped standard: PA-101 0 days (day 70), PA-102 2 (day 100), PA-103 4
    (day 200, 3 days missed 40 days ago: 57/60), PA-104 0 (day 30), PA-105 6 (day 400)."""
    return {
        "PA-101": add_client("PA-101", 70),
        "PA-102": add_client("PA-102", 100),
        "PA-103": add_client("PA-103", 200, missed_days_back=(40, 41, 42)),
        "PA-104": add_client("PA-104", 30),
        "PA-105": add_client("PA-105", 400),
    }


def lowered_and_raised() -> dict:
    """The police lower the 2-day tier's start to day 60 (PA-101 gets 2 days) and both
    sides ask 97 % attendance for 4 and 6 days (PA-103 steps down to 2)."""
    document = default_document("pingan")
    document["tiers"][0]["from_day"] = 60
    document["tiers"][1]["adherence_min"] = 97
    document["tiers"][2]["adherence_min"] = 97
    return document


EXPECTED = {  # code: (days under the shipped standard, under the draft)
    "PA-101": (0, 2),
    "PA-102": (2, 2),
    "PA-103": (4, 2),
    "PA-104": (0, 0),
    "PA-105": (6, 6),
}


def posted(document: dict, profile: str = "pingan", **fields) -> dict:
    """The editor's POST fields for `document`, as the form on the screen sends them."""
    closed = document.get("closed_days", {})
    data = {
        "profile": profile,
        "tiers-TOTAL_FORMS": str(len(document["tiers"])),
        "tiers-INITIAL_FORMS": str(len(document["tiers"])),
        "tiers-MIN_NUM_FORMS": "0",
        "tiers-MAX_NUM_FORMS": "10",
        "administrative": list(document.get("administrative", [])),
        "record_check_valid_days": str(document.get("record_check_valid_days", 365)),
        "to_confirm": "\n".join(document.get("to_confirm", [])),
        "closed_max_days": str(closed.get("max_days", 0)),
        "closed_weekdays": [str(d) for d in closed.get("weekdays", [])],
        "note": "",
        "effective_from": "",
    }
    if closed.get("public_holidays", True):
        data["public_holidays"] = "on"
    if closed.get("needs_police_check"):
        data["closed_needs_police_check"] = "on"
    for i, tier in enumerate(document["tiers"]):
        for key, value in tier.items():
            if key == "needs_one_negative_in_window":
                if value:
                    data[f"tiers-{i}-{key}"] = "on"
            else:
                data[f"tiers-{i}-{key}"] = str(value)
    data.update(fields)
    return data
