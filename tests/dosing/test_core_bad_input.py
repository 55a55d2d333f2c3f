"""Bad input on the clinic-core forms: a clear message in the user's language, no 500, nothing
written (docs/dosing-rules.md: "Bad input gets a clear message and writes nothing")."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from dosing_factories import make_client, stocked

from pingan.core import clock
from pingan.dosing.models import (
    Dose,
    Hold,
    Prescription,
    Reconciliation,
    StockEntry,
    TaperPlan,
)
from pingan.labs.models import InfectionTest, UrineResult, UrineSample
from pingan.registry.models import Client, Episode, Identity

pytestmark = pytest.mark.django_db

WRITTEN = [
    Client,
    Identity,
    Episode,
    Prescription,
    TaperPlan,
    Hold,
    Dose,
    StockEntry,
    Reconciliation,
    UrineSample,
    UrineResult,
    InfectionTest,
]

LANGUAGES = ("en", "zh-hans")
ERRORS = re.compile(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', re.S)
CJK = re.compile(r"[\u4e00-\u9fff]")


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in WRITTEN}


@pytest.fixture
def subject(users):
    client = make_client("K200", users["clinician"], mg=60)
    stocked(1000, users["manager"])
    return client


def _future() -> str:
    return (clock.today() + timedelta(days=30)).isoformat()


# (role, url name, whether the url takes the subject's external id, POST data)
CASES = [
    ("clinician", "registry:enrol", False, {"alias": "", "sex": "Q", "birth_year": "19x0"}),
    (
        "clinician",
        "registry:enrol",
        False,
        {"alias": "A", "sex": "M", "birth_year": "1980", "enrolled_on": "2025-13-45"},
    ),
    ("clinician", "dosing:prescribe", True, {"mg": "sixty", "start_on": "x", "reason": ""}),
    ("clinician", "dosing:prescribe", True, {"mg": "-5", "start_on": "2025-01-01", "reason": ""}),
    (
        "clinician",
        "dosing:taper",
        True,
        {"start_on": "2025-02-30", "from_mg": "60", "to_mg": "80", "step_mg": "0"},
    ),
    ("manager", "dosing:stock", False, {"kind": "receipt", "receipt-ml": "abc"}),
    ("manager", "dosing:stock", False, {"kind": "receipt", "receipt-ml": "-10"}),
    ("manager", "dosing:stock", False, {"kind": "waste", "waste-ml": "1e", "waste-reason": ""}),
    ("manager", "dosing:stock", False, {"kind": "correction", "correction-ml": "0"}),
    ("manager", "dosing:reconcile", False, {"on": "yesterday", "counted_ml": "-1"}),
    ("nurse", "labs:record_urine", True, {"collected_on": "2025-99-01", "a_opiates": "maybe"}),
    ("clinician", "labs:record_test", True, {"tested_on": _future(), "test": "hiv"}),
    ("clinician", "labs:record_test", True, {"tested_on": "", "test": "flu", "result": "?"}),
]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("role,name,by_client,data", CASES)
def test_bad_form_input_gets_a_message_and_writes_nothing(
    client_as, subject, language, role, name, by_client, data
):
    url = reverse(name, args=[subject.external_id] if by_client else [])
    before = counts()
    browser = client_as(role)
    response = browser.post(url, data, HTTP_ACCEPT_LANGUAGE=language)
    assert 400 <= response.status_code < 500 or response.status_code == 200
    errors = " ".join(ERRORS.findall(response.content.decode()))
    assert errors.strip(), "the form is shown again with its errors"
    # The messages are in the user's language: Chinese by default, English when asked.
    assert bool(CJK.search(errors)) is (language == "zh-hans"), errors
    assert counts() == before


@pytest.mark.parametrize("language", LANGUAGES)
def test_stock_that_would_go_negative_is_refused_in_the_users_language(
    client_as, subject, language
):
    before = counts()
    response = client_as("manager").post(
        reverse("dosing:stock"),
        {
            "kind": "waste",
            "waste-product": StockEntry.objects.first().product_id,
            "waste-ml": "5000",
            "waste-reason": "spilt",
        },
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 400
    assert response.context["forms"]["waste"].non_field_errors()
    assert counts() == before


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("mg", ["abc", "999", "-1", ""])
def test_a_dose_with_a_wrong_amount_is_refused_and_nothing_written(
    client_as, subject, language, mg
):
    url = reverse("dosing:dose", args=[subject.external_id])
    browser = client_as("nurse")
    if mg == "":
        # No amount means "the dose on the screen": it is recorded; a second one is refused.
        assert browser.post(url, {"mg": ""}).status_code in (200, 302)
        assert Dose.objects.filter(client=subject, date=clock.today()).count() == 1
    before = counts()
    response = browser.post(url, {"mg": mg}, HTTP_ACCEPT_LANGUAGE=language, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.context["result"].ok is False
    assert response.context["result"].message
    assert counts()["Dose"] == before["Dose"]
    assert counts()["StockEntry"] == before["StockEntry"]


def test_a_dose_without_a_prescription_is_refused(client_as, users):
    client = Client.objects.create(code="K201", alias="no rx", sex="F", birth_year=1990)
    Episode.objects.create(client=client, enrolled_on=clock.today() - timedelta(days=3))
    stocked(100, users["manager"])
    before = counts()
    response = client_as("nurse").post(
        reverse("dosing:dose", args=[client.external_id]), {}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response.context["result"].ok is False and response.context["result"].message
    assert counts()["Dose"] == before["Dose"]


def test_an_unknown_client_is_a_404_not_a_500(client_as):
    for role, name in [
        ("nurse", "dosing:dose"),
        ("clinician", "dosing:prescribe"),
        ("nurse", "labs:record_urine"),
    ]:
        response = client_as(role).post(reverse(name, args=[uuid.uuid4()]), {"mg": "60"})
        assert response.status_code == 404
