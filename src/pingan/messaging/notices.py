"""Texts other than the day's code: a bottle recall and a reminder to a client who stopped
coming. Each goes through the same outbox (one row, queued now, sent by the next
`pingan sms send-due` run) and only to a client with a live `sms` consent and a phone.

The texts are fixed here, like the PIN texts in `rules.py`, so no translation edit can put
a word for the drug or treatment into a client's phone; tests check them against
`rules.FORBIDDEN_WORDS`. A notice is queued for its day only: one not sent by midnight
expires, visibly, like a PIN."""

from __future__ import annotations

import secrets
from datetime import date

from django.utils.translation import gettext_noop

from pingan.core import clock
from pingan.registry.models import Client, Consent, Identity, Purpose

from .composing import normalise_phone
from .models import Purpose as MessagePurpose
from .models import SmsMessage
from .rules import DEFAULT_LANGUAGE

RECALL = MessagePurpose.RECALL
REMINDER = MessagePurpose.REMINDER

TEXTS = {
    RECALL: {
        "zh-hans": "请您今天带上您的盒子到中心来一趟。",
        "en": "Please come to the centre today with your box.",
    },
    REMINDER: {
        "zh-hans": "好几天没见到您了，欢迎您随时回到中心来。",
        "en": "We have not seen you for a few days. You are welcome back at the centre any time.",
    },
}

# Why a client cannot be texted (translated where shown).
NO_CONSENT = gettext_noop("The client has not agreed to text messages.")
NO_PHONE = gettext_noop("No phone number is recorded for the client.")
BAD_PHONE = gettext_noop("The recorded phone number is not a usable mobile number.")


def text_for(kind: str, language: str) -> str:
    texts = TEXTS[kind]
    return texts.get(language, texts[DEFAULT_LANGUAGE])


def has_sms_consent(client: Client) -> bool:
    return Consent.objects.filter(
        client=client, purpose=Purpose.SMS, revoked_on__isnull=True
    ).exists()


def why_not(client: Client) -> str | None:
    """Why the client cannot be texted now (untranslated), or None if they can. Reading
    the phone is a read of the identity vault: the caller audits it."""
    if not has_sms_consent(client):
        return NO_CONSENT
    phone = Identity.objects.filter(client=client).values_list("phone", flat=True).first()
    if not phone:
        return NO_PHONE
    if normalise_phone(phone) is None:
        return BAD_PHONE
    return None


def queue(client: Client, kind: str, key: str, day: date | None = None) -> SmsMessage:
    """Queue one notice to the client, in their language, for `day` (today by default).
    The caller has checked `why_not` and runs this inside its own transaction; `key`
    keeps it to one row (a second call with the same key returns the first row)."""
    found = SmsMessage.objects.filter(dedupe_key=key).first()
    if found is not None:
        return found
    phone = normalise_phone(Identity.objects.get(client=client).phone)
    language = client.language or DEFAULT_LANGUAGE
    return SmsMessage.objects.create(
        client=client,
        to=phone,
        text=text_for(kind, language),
        language=language,
        purpose=kind,
        dedupe_key=key,
        day=day or clock.today(),
        next_attempt_at=clock.now(),
        dlr_token=secrets.token_hex(16),
    )
