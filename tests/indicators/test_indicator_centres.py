"""Indicators of one centre and of the pooled region: random records in three centres; every
figure of a centre counts only its own clients, and the pooled region's numerators and
denominators are the sums of its centres'."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from indicator_fixtures import doses, urine
from indicator_fixtures import test_ as infection_test

from pingan.core.models import Centre
from pingan.dosing.models import Dose
from pingan.indicators import freshness, queries
from pingan.indicators.definitions import INDICATORS, Period
from pingan.indicators.engines import compute_db
from pingan.labs.models import InfectionTest, UrineResult, UrineSample
from pingan.referrals import actions as referral_actions
from pingan.referrals.models import PoliceReferral
from pingan.region.models import Membership
from pingan.registry.models import Client, Episode
from pingan.services.models import NaloxoneKit, ServiceSession

pytestmark = pytest.mark.django_db

MARCH = Period(2026, 3)
CODES = ("CA", "CB", "CC")


def _random_region(rng: random.Random, users) -> dict[str, Centre]:
    """Three centres, each with clients whose episodes, doses, urine samples and tests are
    drawn at random around March 2026, and some referrals, sessions and naloxone kits."""
    centres = {code: Centre.objects.create(code=code, name=f"Centre {code}") for code in CODES}
    for code, centre in centres.items():
        for n in range(rng.randint(3, 9)):
            person = Client.objects.create(
                centre=centre, code=f"{code}-{n:03d}", alias="a", sex="M", birth_year=1980
            )
            enrolled = date(2025, 10, 1) + timedelta(days=rng.randint(0, 170))
            discharged = (
                enrolled + timedelta(days=rng.randint(5, 120)) if rng.random() < 0.3 else None
            )
            Episode.objects.create(client=person, enrolled_on=enrolled, discharged_on=discharged)
            days = sorted(
                {date(2026, 2, 1) + timedelta(days=rng.randint(0, 75)) for _ in range(30)}
            )
            clinic = [d for d in days if rng.random() < 0.8]
            doses(person, clinic, rng.choice((40, 60, 80, 120)))
            doses(person, [d for d in days if d not in clinic], 60, "takehome")
            for _ in range(rng.randint(0, 3)):
                on = (date(2026, 3, 1) + timedelta(days=rng.randint(0, 30))).isoformat()
                urine(
                    person,
                    on,
                    opiates=rng.choice(("positive", "negative")),
                    methadone=rng.choice(("positive", "negative")),
                    eddp=rng.choice(("positive", "negative")),
                )
            for test in ("hiv", "hcv", "hbv", "syphilis"):
                if rng.random() < 0.5:
                    on = (date(2025, 6, 1) + timedelta(days=rng.randint(0, 300))).isoformat()
                    infection_test(person, on, test, rng.choice(("positive", "negative")))
            if rng.random() < 0.3:
                NaloxoneKit.objects.create(
                    client=person, handed_on=date(2026, 3, rng.randint(1, 31)), by=users["nurse"]
                )
        for _ in range(rng.randint(0, 3)):
            ServiceSession.objects.create(
                centre=centre, kind="counselling", date=date(2026, 3, 10), staff=users["nurse"]
            )
        for n in range(rng.randint(0, 3)):
            referral_actions.file_referral(
                officer=users["police"],
                referred_on=date(2026, 3, 5 + n),
                station="S",
                person_name=f"Person {code} {n}",
                person_contact="",
                reason="r",
                centre=centre,
            )
    return centres


def _figures(result_set) -> dict[str, tuple]:
    return {
        i: (r.numerator, r.denominator, r.people, r.people_numerator)
        for i, r in result_set.results.items()
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_region_is_the_sum_of_its_centres(users, clock_at, seed):
    clock_at(datetime(2026, 4, 15, 10, 0))
    centres = _random_region(random.Random(seed), users)
    pooled = _figures(compute_db(MARCH))
    each = {code: _figures(compute_db(MARCH, centre_id=c.pk)) for code, c in centres.items()}
    checked = 0
    for ind in INDICATORS:
        parts = [each[code][ind.id] for code in CODES]
        if any(p[0] is None for p in parts):
            continue  # not available for one centre (the inpatient unit's rooms)
        checked += 1
        numerator, denominator = pooled[ind.id][0], pooled[ind.id][1]
        assert numerator == sum(p[0] for p in parts), ind.id
        if denominator is not None:
            assert denominator == sum(p[1] for p in parts), ind.id
    assert checked >= len(INDICATORS) - 3


@pytest.mark.parametrize("seed", [4, 5])
def test_a_centres_figures_count_only_its_own_clients(users, clock_at, seed):
    clock_at(datetime(2026, 4, 15, 10, 0))
    centres = _random_region(random.Random(seed), users)
    first = centres["CA"]
    alone = _figures(compute_db(MARCH, centre_id=first.pk))
    # Remove everything of the other centres: the pooled figures are then centre A's.
    others = Client.objects.exclude(centre=first)
    UrineResult.objects.filter(sample__client__in=others).delete()
    UrineSample.objects.filter(client__in=others).delete()
    for model in (Dose, InfectionTest, Episode, NaloxoneKit):
        model.objects.filter(client__in=others).delete()
    PoliceReferral.objects.exclude(centre=first).delete()
    ServiceSession.objects.exclude(centre=first).delete()
    others.delete()
    remaining = _figures(compute_db(MARCH))
    for ind in INDICATORS:
        if alone[ind.id][0] is None:
            continue
        assert alone[ind.id] == remaining[ind.id], ind.id


def test_the_command_takes_a_centre(users, clock_at, capsys):
    clock_at(datetime(2026, 4, 15, 10, 0))
    _random_region(random.Random(7), users)
    call_command("indicators", "--period", "2026-03", "--format", "json", "--centre", "cb")
    assert '"police_referrals"' in capsys.readouterr().out
    with pytest.raises(CommandError, match="XX"):
        call_command("indicators", "--period", "2026-03", "--centre", "XX")


BACKEND = "django.contrib.auth.backends.ModelBackend"


def test_the_dashboard_shows_the_centre_or_the_region(client, users, clock_at):
    clock_at(datetime(2026, 4, 15, 10, 0))
    centres = _random_region(random.Random(8), users)
    Membership.objects.create(user=users["manager"], centre=centres["CB"])
    client.force_login(users["manager"], backend=BACKEND)
    page = client.get("/indicators/?period=2026-03").content.decode()
    assert 'data-scope="CB"' in page
    assert "centres-side-by-side" not in page and 'name="centre"' not in page
    for role in ("cdc", "police"):
        client.force_login(users[role], backend=BACKEND)
        page = client.get("/indicators/?period=2026-03").content.decode()
        assert 'data-scope="pooled"' in page
        assert "centres-side-by-side" in page and 'name="centre"' in page
        page = client.get("/indicators/?period=2026-03&centre=CC").content.decode()
        assert 'data-scope="CC"' in page


def test_the_clients_behind_a_figure_are_the_figures_own(client, users, clock_at):
    clock_at(datetime(2026, 4, 15, 10, 0))
    centres = _random_region(random.Random(9), users)
    Membership.objects.create(user=users["manager"], centre=centres["CB"])
    url = reverse("indicators:drilldown", args=["active_clients", "2026-03"])
    client.force_login(users["manager"], backend=BACKEND)
    page = client.get(url).content.decode()
    assert "CB-000" in page and "CA-000" not in page and "CC-000" not in page
    # The query string chooses a centre for a regional officer only.
    page = client.get(url + "?centre=CA").content.decode()
    assert "CB-000" in page and "CA-000" not in page


def test_the_evaluation_of_one_centre(client, users, clock_at):
    clock_at(datetime(2026, 4, 15, 10, 0))
    centres = _random_region(random.Random(10), users)
    first, last = Period(2026, 2), MARCH
    mine = freshness.evaluation(first, last, centres["CB"].pk)
    assert mine == queries.evaluation(first, last, centre_id=centres["CB"].pk)
    pooled = freshness.evaluation(first, last)
    assert pooled == queries.evaluation(first, last)
    for one, all_ in zip(mine, pooled, strict=True):
        assert one.overall.denominator <= all_.overall.denominator
    Membership.objects.create(user=users["manager"], centre=centres["CB"])
    client.force_login(users["manager"], backend=BACKEND)
    assert client.get(reverse("indicators:evaluation")).status_code == 200
