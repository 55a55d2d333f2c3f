"""Builders for the recall tests: clients holding take-home bottles, cheaply (bottles and
their dose rows written directly) or through the real approval chain and dispense."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import translation

from pingan.core import clock
from pingan.dosing.actions import ensure_default_product, prescribe, receive
from pingan.dosing.models import Dose, DoseKind
from pingan.labs.models import UrineResult, UrineSample
from pingan.lockbox.models import Box
from pingan.registry.models import Client, Consent, Episode, Identity
from pingan.takehome import actions as takehome
from pingan.takehome.models import TakeHomeBottle

# A Monday, no holiday near: 2026-06-01 10:00 in the centre's time zone (ISO week 2026-W23).
MONDAY = datetime(2026, 6, 1, 10, 0)
FORBIDDEN = (
    "美沙酮",
    "戒毒",
    "治疗",
    "药",
    "毒",
    "诊所",
    "methadone",
    "treatment",
    "clinic",
    "drug",
    "dose",
    "opioid",
)


def holder(
    code: str,
    ahead=(1, 2),
    phone: str | None = "13900000001",
    consents=("sms",),
    language: str = "zh-hans",
    ml: int = 60,
) -> Client:
    """A client with a box and a bottle (60 mg at 1 mg/ml) for each day `ahead` of today."""
    client = Client.objects.create(
        code=code, alias=f"alias {code}", sex="M", birth_year=1980, language=language
    )
    Episode.objects.create(client=client, enrolled_on=clock.today() - timedelta(days=200))
    for purpose in consents:
        Consent.objects.create(client=client, purpose=purpose, given_on=clock.today())
    if phone:
        Identity.objects.create(client=client, phone=phone)
    box = Box.objects.create(
        label=f"BOX-{code}", client=client, secret="ab" * 20, issued_on=clock.today()
    )
    for offset in ahead:
        day = clock.today() + timedelta(days=offset)
        dose = Dose.objects.create(
            client=client,
            date=day,
            kind=DoseKind.TAKEHOME,
            mg=ml,
            mg_taken_home=ml,
            strength_mg_per_ml=1,
            volume_ml=Decimal(ml),
            given_at=clock.now(),
        )
        TakeHomeBottle.objects.create(client=client, box=box, day=day, mg=ml, dose=dose)
    return client


def stable_on_takehome(code: str, users, phone: str = "13900000001", days: int = 3) -> Client:
    """A client on day 200 with a clean record, both consents, a phone, a box and a
    prescription, given `days` bottles through the real chain (request, decision, record
    check, dispense)."""
    today = clock.today()
    client = Client.objects.create(code=code, alias=f"alias {code}", sex="M", birth_year=1978)
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
        sample = UrineSample.objects.create(client=client, collected_on=today - timedelta(back))
        UrineResult.objects.create(sample=sample, analyte="opiates", result="negative")
    for purpose in ("police_record_check", "sms"):
        Consent.objects.create(client=client, purpose=purpose, given_on=enrolled)
    Identity.objects.create(
        client=client, name="赵国强", national_id="110101197801010022", phone=phone
    )
    Box.objects.create(label=f"BOX-{code}", client=client, secret="cd" * 20, issued_on=enrolled)
    prescribe(client, 60, enrolled, users["clinician"], "maintenance")
    receive(ensure_default_product(), 5000, f"B-{code}", users["manager"])
    request = ready_request(client, users, days)
    takehome.dispense_takehome(
        request, [today + timedelta(days=i) for i in range(1, days + 1)], users["nurse"]
    )
    return client


def ready_request(client: Client, users, days: int):
    """A request for `days` days, approved and record-checked: ready to dispense."""
    with translation.override("en"):
        req = takehome.request_takehome(client, days, users["clinician"], reason="work")
        takehome.decide_takehome(req, users["clinician"], True, days, "stable")
        takehome.record_check(req, users["police"], True)
    req.refresh_from_db()
    return req
