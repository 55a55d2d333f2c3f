"""Builders for lockbox tests: a client with consents, an issued box and bottles."""

from __future__ import annotations

from datetime import date, timedelta

from pingan.core import clock
from pingan.core.domain import operator
from pingan.lockbox import actions
from pingan.lockbox.models import Box
from pingan.registry.models import Client, Consent, Episode, Identity
from pingan.takehome.models import TakeHomeBottle


def make_client(code: str, language: str = "zh-hans", consents=(), phone: str = "") -> Client:
    today = clock.today()
    client = Client.objects.create(
        code=code, alias=f"alias {code}", sex="M", birth_year=1980, language=language
    )
    Episode.objects.create(client=client, enrolled_on=today - timedelta(days=200))
    for purpose in consents:
        Consent.objects.create(client=client, purpose=purpose, given_on=today)
    if phone:
        Identity.objects.create(client=client, phone=phone)
    return client


def issue(client: Client) -> tuple[Box, str]:
    with operator():  # as `pingan box issue` does
        issued = actions.issue_box(client)
    return issued.box, issued.secret


def bottle(client: Client, box: Box, day: date, mg: int = 60) -> TakeHomeBottle:
    return TakeHomeBottle.objects.create(client=client, box=box, day=day, mg=mg)
