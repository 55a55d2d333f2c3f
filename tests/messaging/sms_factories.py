"""Builders for messaging tests: clients on take-home with a box, a bottle and a phone."""

from __future__ import annotations

from datetime import date, timedelta

from pingan.core import clock
from pingan.core.domain import operator
from pingan.lockbox.actions import issue_box
from pingan.registry.models import Client, Consent, Episode, Identity
from pingan.takehome.models import TakeHomeBottle


def takehome_client(
    code: str,
    day: date,
    language: str = "zh-hans",
    phone: str = "13900000001",
    consents=("sms",),
    with_bottle: bool = True,
):
    """A client with an issued box (returns client, box, secret)."""
    client = Client.objects.create(
        code=code, alias=f"alias {code}", sex="F", birth_year=1975, language=language
    )
    Episode.objects.create(client=client, enrolled_on=clock.today() - timedelta(days=200))
    for purpose in consents:
        Consent.objects.create(client=client, purpose=purpose, given_on=clock.today())
    if phone:
        Identity.objects.create(client=client, phone=phone)
    with operator():  # as `pingan box issue` does
        issued = issue_box(client)
    if with_bottle:
        TakeHomeBottle.objects.create(client=client, box=issued.box, day=day, mg=60)
    return client, issued.box, issued.secret
