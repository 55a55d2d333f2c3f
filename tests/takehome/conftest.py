"""A client on the 4-day tier with everything in order, and a request ready to dispense: what
the dispense re-check and the suspension tests start from."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client as Browser
from django.utils import translation
from takehome_factories import MONDAY, add_sample

from pingan.core import clock
from pingan.dosing.actions import ensure_default_product, prescribe, receive
from pingan.dosing.models import Dose
from pingan.lockbox.models import Box
from pingan.registry.models import Client, Consent, Episode, Identity
from pingan.takehome import actions


@pytest.fixture
def monday(clock_at):
    """The clock at MONDAY; `advance(days=…)` moves it on."""
    return clock_at(MONDAY)


@pytest.fixture
def stable(users, monday):
    """PA-8 on day 200: a dose every day, a negative sample every week, both consents, an
    identity, a lockbox, a prescription and stock: the record allows 4 days, ready."""
    today = clock.today()
    client = Client.objects.create(code="PA-8", alias="Lao Zhao", sex="M", birth_year=1978)
    enrolled = today - timedelta(days=200)
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
        for i in range(200)
    )
    for back in range(3, 200, 7):
        add_sample(client, today - timedelta(days=back), "negative")
    for purpose in ("police_record_check", "sms"):
        Consent.objects.create(client=client, purpose=purpose, given_on=enrolled)
    Identity.objects.create(client=client, name="赵国强", national_id="110101197801010022")
    Box.objects.create(label="BOX-8", client=client, secret="cd" * 20, issued_on=enrolled)
    prescribe(client, 60, enrolled, users["clinician"], "maintenance")
    receive(ensure_default_product(), 5000, "B8", users["manager"])
    return client


@pytest.fixture
def ready_request(users):
    """`ready_request(client, days)`: requested, approved and record-checked today."""

    def make(client: Client, days: int):
        with translation.override("en"):
            req = actions.request_takehome(client, days, users["clinician"], reason="work")
            actions.decide_takehome(req, users["clinician"], True, days, "stable")
            actions.record_check(req, users["police"], True)
        req.refresh_from_db()
        return req

    return make


@pytest.fixture
def browser_as(users):
    """`browser_as("nurse", "zh-hans")`: a test browser signed in as that role, reading
    that language."""

    def sign_in(role: str, language: str = "en") -> Browser:
        browser = Browser()
        browser.force_login(users[role], backend="django.contrib.auth.backends.ModelBackend")
        browser.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        return browser

    return sign_in
