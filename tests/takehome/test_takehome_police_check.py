"""The police record-check page shows identity only while the request awaits the check.

Any police officer may do a waiting check (requests are not assigned to one officer); once
it is done — by this officer or another — and for requests refused, dispensed or not yet
decided, the page shows where the check stands and nothing that identifies the client.
Every identity read is on the audit log."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.test import Client as Browser
from django.urls import reverse

from pingan.audit.models import AuditEntry
from pingan.core import clock
from pingan.dosing.actions import ensure_default_product, prescribe, receive
from pingan.dosing.models import Dose
from pingan.labs.models import UrineResult, UrineSample
from pingan.lockbox.models import Box
from pingan.registry.models import Client, Consent, Episode, Identity
from pingan.takehome import actions
from pingan.takehome.models import RequestStatus

pytestmark = pytest.mark.django_db

NAME, NATIONAL_ID = "王建国", "110101197501010011"


@pytest.fixture(autouse=True)
def _wednesday_morning():
    with clock.frozen(datetime(2026, 3, 4, 9, 30)):
        yield


@pytest.fixture
def eligible(users):
    """A client on day 120 with perfect attendance, a negative sample, a box, both
    consents and an identity on file."""
    today = clock.today()
    client = Client.objects.create(code="PA-9", alias="Lao Li", sex="M", birth_year=1975)
    enrolled = today - timedelta(days=120)
    Episode.objects.create(client=client, enrolled_on=enrolled)
    Dose.objects.bulk_create(
        Dose(
            client=client,
            date=enrolled + timedelta(days=i),
            mg=60,
            mg_in_clinic=60,
            strength_mg_per_ml=1,
            volume_ml=60,
            given_at=clock.now(),
        )
        for i in range(120)
    )
    sample = UrineSample.objects.create(client=client, collected_on=today - timedelta(days=5))
    UrineResult.objects.create(sample=sample, analyte="opiates", result="negative")
    for purpose in ("police_record_check", "sms"):
        Consent.objects.create(client=client, purpose=purpose, given_on=enrolled)
    Identity.objects.create(client=client, name=NAME, national_id=NATIONAL_ID)
    Box.objects.create(label="BOX-9", client=client, secret="cd" * 20, issued_on=enrolled)
    prescribe(client, 60, enrolled, users["clinician"], "maintenance")
    receive(ensure_default_product(), 5000, "B1", users["manager"])
    return client


@pytest.fixture
def second_officer(new_user):
    return new_user("police", "police2")


def _browser(user) -> Browser:
    browser = Browser()
    browser.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    browser.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return browser


def _page(user, req) -> tuple[int, str]:
    response = _browser(user).get(reverse("takehome:check", args=[req.external_id]))
    return response.status_code, response.content.decode()


def _identity_reads(username: str | None = None) -> int:
    reads = AuditEntry.objects.filter(action="identity_read")
    return (reads.filter(username=username) if username else reads).count()


def _approved(eligible, users, days: int = 2):
    req = actions.request_takehome(eligible, days, users["clinician"])
    actions.decide_takehome(req, users["clinician"], True, days)
    req.refresh_from_db()
    assert req.status == RequestStatus.APPROVED
    return req


def _shows_no_identity(html: str) -> None:
    assert NAME not in html and NATIONAL_ID not in html
    assert "Identity the client consented to disclose" not in html
    assert 'name="passed"' not in html


def test_any_officer_sees_identity_while_the_check_waits(eligible, users, second_officer):
    req = _approved(eligible, users)
    for officer in (users["police"], second_officer):
        status, html = _page(officer, req)
        assert status == 200
        assert NAME in html and NATIONAL_ID in html
        assert 'name="passed"' in html
        assert _identity_reads(officer.username) == 1
    read = AuditEntry.objects.filter(action="identity_read", username="police2").get()
    assert read.role == "police" and read.client_code == "PA-9"
    assert read.detail["purpose"] == "police_record_check"


def test_identity_page_is_never_cached(eligible, users):
    req = _approved(eligible, users)
    response = _browser(users["police"]).get(reverse("takehome:check", args=[req.external_id]))
    assert "no-store" in response["Cache-Control"]


def test_after_the_check_no_officer_sees_identity(eligible, users, second_officer):
    req = _approved(eligible, users)
    actions.record_check(req, users["police"], True)
    before = _identity_reads()
    for officer in (users["police"], second_officer):
        status, html = _page(officer, req)
        assert status == 200
        _shows_no_identity(html)
        assert "The record check passed on 2026-03-04." in html
    assert _identity_reads() == before


def test_a_failed_check_shows_its_outcome_only(eligible, users, second_officer):
    req = _approved(eligible, users)
    actions.record_check(req, users["police"], False, "open case")
    status, html = _page(second_officer, req)
    assert status == 200
    _shows_no_identity(html)
    assert "The record check did not pass on 2026-03-04." in html
    assert _identity_reads() == 0


def test_dispensed_request_shows_no_identity(eligible, users):
    req = _approved(eligible, users)
    actions.record_check(req, users["police"], True)
    tomorrow = clock.today() + timedelta(days=1)
    actions.dispense_takehome(req, [tomorrow], users["nurse"])
    req.refresh_from_db()
    assert req.status == RequestStatus.DISPENSED
    status, html = _page(users["police"], req)
    assert status == 200
    _shows_no_identity(html)
    assert "The record check passed on 2026-03-04." in html
    assert _identity_reads() == 0


def test_refused_request_shows_no_identity(eligible, users):
    req = actions.request_takehome(eligible, 2, users["clinician"])
    actions.decide_takehome(req, users["clinician"], False, reason="missed doses last week")
    status, html = _page(users["police"], req)
    assert status == 200
    _shows_no_identity(html)
    assert "This request is not waiting for a record check." in html
    assert "missed doses" not in html
    assert _identity_reads() == 0


def test_request_not_yet_decided_shows_no_identity(eligible, users):
    req = actions.request_takehome(eligible, 2, users["clinician"])
    status, html = _page(users["police"], req)
    assert status == 200
    _shows_no_identity(html)
    assert _identity_reads() == 0


def test_posting_to_a_checked_request_is_refused_without_identity(eligible, users, second_officer):
    """The second officer's page was open while the first one checked: the late POST is
    refused and the answer carries no identity."""
    req = _approved(eligible, users)
    actions.record_check(req, users["police"], True)
    browser = _browser(second_officer)
    response = browser.post(
        reverse("takehome:check", args=[req.external_id]), {"passed": "no", "reason": "x"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "This request is not waiting for a record check." in html
    _shows_no_identity(html)
    assert _identity_reads() == 0
    req.refresh_from_db()
    assert req.status == RequestStatus.READY


def test_other_roles_cannot_open_the_check_page(eligible, users):
    req = _approved(eligible, users)
    for role in ("nurse", "clinician", "cdc"):
        status, _html = _page(users[role], req)
        assert status == 403, role
    assert _identity_reads() == 0
