"""A reminder text to a client on the drop-out worklist (docs/outreach.md): only with the
client's `sms` consent, through the outbox, in their language, naming neither the drug nor
treatment, kept as an outreach message; without consent the button is absent and a post is
refused with the reason, nothing written."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import translation

from pingan.audit.models import AuditEntry
from pingan.core import clock
from pingan.core.domain import Refusal
from pingan.messaging.models import SmsMessage, Status
from pingan.messaging.rules import FORBIDDEN_WORDS
from pingan.registry.models import Client, Consent, Episode, Identity
from pingan.services import outreach
from pingan.services.models import Outreach

pytestmark = pytest.mark.django_db


def _gone(code: str, consents=("sms",), phone="13900000001", language="zh-hans") -> Client:
    """In treatment for 100 days, never dosed: on the worklist."""
    client = Client.objects.create(
        code=code, alias=f"alias {code}", sex="M", birth_year=1980, language=language
    )
    Episode.objects.create(client=client, enrolled_on=clock.today() - timedelta(days=100))
    for purpose in consents:
        Consent.objects.create(client=client, purpose=purpose, given_on=clock.today())
    if phone:
        Identity.objects.create(client=client, phone=phone)
    return client


@pytest.fixture
def today(clock_at):
    return clock_at(datetime(2026, 6, 10, 10, 0))


def test_a_reminder_goes_through_the_outbox_in_the_clients_language(today, users):
    zh, en = _gone("ZH"), _gone("EN", phone="13900000002", language="en")
    item = outreach.send_reminder(zh, users["nurse"])
    outreach.send_reminder(en, users["nurse"])
    assert (item.kind, item.outcome, item.on) == ("message", "not_reached", clock.today())
    texts = dict(SmsMessage.objects.values_list("client__code", "text"))
    assert texts == {
        "ZH": "好几天没见到您了，欢迎您随时回到中心来。",
        "EN": "We have not seen you for a few days. You are welcome back at the centre any time.",
    }
    for text in texts.values():
        assert not [w for w in FORBIDDEN_WORDS if w in text.lower()]
    message = SmsMessage.objects.get(client=zh)
    assert (message.status, message.to, message.purpose) == (
        Status.QUEUED,
        "+8613900000001",
        "reminder",
    )
    entry = AuditEntry.objects.get(action="outreach_reminder", client_code="ZH")
    assert entry.detail["message"] == str(message.external_id)
    # One a day.
    with translation.override("en"), pytest.raises(Refusal, match="already went to ZH today"):
        outreach.send_reminder(zh, users["nurse"])
    assert SmsMessage.objects.count() == 2 and Outreach.objects.count() == 2


@pytest.mark.parametrize(
    ("consents", "phone", "why"),
    [
        ((), "13900000001", "has not agreed to text messages"),
        (("sms",), "", "No phone number"),
        (("sms",), "12", "not a usable mobile number"),
    ],
)
def test_no_consent_or_no_phone_sends_nothing(today, users, consents, phone, why):
    client = _gone("NO", consents=consents, phone=phone)
    with translation.override("en"), pytest.raises(Refusal, match=why):
        outreach.send_reminder(client, users["nurse"])
    with translation.override("zh-hans"), pytest.raises(Refusal) as refused:
        outreach.send_reminder(client, users["nurse"])
    assert "未发送" in refused.value.message
    assert not SmsMessage.objects.exists() and not Outreach.objects.exists()
    assert not AuditEntry.objects.filter(action="outreach_reminder").exists()


def test_the_button_shows_only_with_consent_and_a_post_without_is_refused(today, client_as):
    yes, no = _gone("YES"), _gone("NOPE", consents=())
    browser = client_as("nurse")
    page = browser.get(reverse("services:dropouts")).content.decode()
    assert reverse("services:reminder", args=[yes.external_id]) in page
    assert reverse("services:reminder", args=[no.external_id]) not in page
    answer = browser.post(reverse("services:reminder", args=[no.external_id]), follow=True)
    assert answer.status_code == 200
    assert "未发送提醒短信" in answer.content.decode()
    assert not SmsMessage.objects.exists()
    answer = browser.post(reverse("services:reminder", args=[yes.external_id]))
    assert answer.status_code == 302 and SmsMessage.objects.count() == 1


def test_the_police_cannot_send_a_reminder(today, client_as):
    client = _gone("P")
    answer = client_as("police").post(reverse("services:reminder", args=[client.external_id]))
    assert answer.status_code == 403
    assert not SmsMessage.objects.exists()
