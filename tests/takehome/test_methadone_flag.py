"""A take-home client's sample negative for methadone and EDDP raises a flag for the
clinician (client page, worklist) and counts in takehome_methadone_negative_rate; a note
clears it, audited; bad input is refused and writes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import translation
from takehome_factories import add_dose

from pingan.audit.models import AuditEntry
from pingan.core import clock
from pingan.core.domain import Forbidden, Refusal
from pingan.indicators.definitions import Period
from pingan.indicators.engines import compute_db
from pingan.labs.actions import record_urine_sample
from pingan.labs.flags import methadone_negative
from pingan.labs.models import MethadoneNegativeReview
from pingan.registry.models import Client, Episode
from pingan.takehome import actions, flags

pytestmark = pytest.mark.django_db

BOTH_NEGATIVE = {"opiates": "negative", "methadone": "negative", "eddp": "negative"}


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def on_takehome(stable, users, ready_request):
    """PA-8 with two take-home bottles dispensed for tomorrow and the day after."""
    req = ready_request(stable, 4)
    today = clock.today()
    actions.dispense_takehome(
        req, [today + timedelta(days=1), today + timedelta(days=2)], users["nurse"]
    )
    return stable


def test_the_rule_needs_both_analytes_negative():
    assert methadone_negative({"methadone": "negative", "eddp": "negative"}) is True
    assert methadone_negative({"methadone": "negative", "eddp": "positive"}) is False
    assert methadone_negative({"methadone": "negative"}) is None
    assert methadone_negative({"opiates": "negative"}) is None


def test_flag_raised_shown_counted_and_cleared_with_a_note(on_takehome, users, monday, browser_as):
    monday.advance(days=2)
    day = clock.today()
    sample = record_urine_sample(on_takehome, day, BOTH_NEGATIVE, by=users["nurse"])
    # A clinic-only client with the same result raises no flag and is not counted.
    other = Client.objects.create(code="PA-9", alias="Xiao Li", sex="F", birth_year=1990)
    Episode.objects.create(client=other, enrolled_on=day - timedelta(days=50))
    add_dose(other, day)
    record_urine_sample(other, day, BOTH_NEGATIVE, by=users["nurse"])
    # One take-home sample with methadone present: in the denominator only.
    monday.advance(days=1)
    record_urine_sample(
        on_takehome, clock.today(), {"methadone": "positive", "eddp": "positive"}, by=users["nurse"]
    )

    found = flags.open_flags()
    assert [(f.client.code, f.collected_on) for f in found] == [("PA-8", day)]
    assert found[0].last_takehome == day

    rate = compute_db(Period(day.year, day.month), ["takehome_methadone_negative_rate"])
    r = rate.results["takehome_methadone_negative_rate"]
    assert (r.numerator, r.denominator, r.people, r.people_numerator) == (1, 2, 1, 1)

    browser = browser_as("clinician")
    page = browser.get(reverse("registry:detail", args=[on_takehome.external_id])).content.decode()
    assert f'data-flag="{sample.external_id}"' in page
    worklist = browser.get(reverse("dosing:worklist")).content.decode()
    assert f'data-flag="{sample.external_id}"' in worklist and "PA-9" not in worklist

    url = reverse("takehome:clear_flag", args=[sample.external_id])
    response = browser.post(url, {"note": "   ", "back": "worklist"}, follow=True)
    assert "A reason is required." in response.content.decode()
    assert not MethadoneNegativeReview.objects.exists()

    response = browser.post(
        url, {"note": "vomited the dose, witnessed next day", "back": "worklist"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("dosing:worklist")
    assert flags.open_flags() == []
    entry = AuditEntry.objects.get(action="methadone_flag_clear")
    assert entry.client_code == "PA-8"
    with pytest.raises(Refusal):  # cleared already
        flags.clear_flag(sample, "again", users["clinician"])
    assert MethadoneNegativeReview.objects.count() == 1


def test_only_a_clinician_sees_or_clears_the_flag(on_takehome, users, monday, browser_as):
    monday.advance(days=2)
    sample = record_urine_sample(on_takehome, clock.today(), BOTH_NEGATIVE, by=users["nurse"])
    for role in ("nurse", "police"):
        with pytest.raises(Forbidden):
            flags.clear_flag(sample, "note", users[role])
    police = browser_as("police")
    response = police.post(reverse("takehome:clear_flag", args=[sample.external_id]), {"note": "x"})
    assert response.status_code == 403
    page = police.get(reverse("registry:detail", args=[on_takehome.external_id]))
    assert str(sample.external_id).encode() not in page.content
    assert not MethadoneNegativeReview.objects.exists()
