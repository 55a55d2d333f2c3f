"""The wider panel on the labs page: fentanyl, tramadol, buprenorphine, benzodiazepines,
methadone and EDDP in the urine entry form, hepatitis B and syphilis beside HIV, HCV and TB;
an analyte or a test the page does not know is refused with a message and writes nothing,
and the database refuses one whatever writes it."""

from datetime import date

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from pingan.core import clock
from pingan.core.domain import Refusal
from pingan.labs import actions, rules
from pingan.labs.forms import ANALYTE_GROUPS, UrineSampleForm
from pingan.labs.models import Analyte, InfectionTest, UrineResult, UrineSample
from pingan.labs.models import TestKind as Kind
from pingan.registry.models import Client, Episode

pytestmark = pytest.mark.django_db

NEW_ANALYTES = ("benzodiazepines", "tramadol", "fentanyl", "buprenorphine", "eddp", "methadone")
NEW_TESTS = ("syphilis", "hbv")


@pytest.fixture
def subject():
    client = Client.objects.create(code="C200", alias="阿华", sex="M", birth_year=1981)
    Episode.objects.create(client=client, enrolled_on=date(2025, 1, 1))
    return client


def urine_post(**results):
    data = {"collected_on": clock.today().isoformat(), "observed": "on"}
    data.update({f"a_{k}": v for k, v in results.items()})
    return data


def page(client, subject, language="en"):
    return client.get(
        reverse("labs:client", args=[subject.external_id]), HTTP_ACCEPT_LANGUAGE=language
    )


def test_the_groups_hold_every_analyte_once_in_order():
    grouped = [a for _label, group in ANALYTE_GROUPS for a in group]
    assert grouped == list(Analyte.values)
    assert set(NEW_ANALYTES) <= set(Analyte.values)
    assert {"opiates", "morphine", "fentanyl", "tramadol", "buprenorphine"} == set(
        ANALYTE_GROUPS[0][1]
    )


def test_the_opioid_definition_keeps_its_meaning():
    assert rules.OPIOID_ANALYTES == ("opiates", "morphine")
    for analyte in ("fentanyl", "tramadol", "buprenorphine", "benzodiazepines"):
        assert rules.opioid_positive({analyte: "positive"}).positive is None
        assert rules.opioid_positive({analyte: "positive", "opiates": "negative"}).positive is False


@pytest.mark.parametrize("analyte", NEW_ANALYTES)
def test_the_form_offers_and_stores_each_new_analyte(client_as, subject, analyte):
    nurse = client_as("nurse")
    shown = page(nurse, subject)
    assert shown.status_code == 200
    form = shown.context["urine_form"]
    assert f"a_{analyte}" in form.fields
    html = shown.content.decode()
    assert f'name="a_{analyte}"' in html
    assert str(Analyte(analyte).label) in html

    url = reverse("labs:record_urine", args=[subject.external_id])
    response = nurse.post(url, urine_post(**{analyte: "positive"}))
    assert response.status_code == 302
    sample = UrineSample.objects.get(client=subject)
    assert dict(sample.results.values_list("analyte", "result")) == {analyte: "positive"}
    assert UrineSample.objects.values_list("opioid", flat=True).get() is None


def test_a_full_panel_is_one_sample_shown_in_every_column(client_as, subject):
    nurse = client_as("nurse")
    results = {a: ("positive" if a in ("fentanyl", "methadone") else "negative") for a in Analyte}
    url = reverse("labs:record_urine", args=[subject.external_id])
    assert nurse.post(url, urine_post(**results)).status_code == 302
    sample = UrineSample.objects.get(client=subject)
    assert dict(sample.results.values_list("analyte", "result")) == results
    # Fentanyl positive, opiates and morphine negative: not opioid-positive by the rule.
    assert UrineSample.objects.values_list("opioid", flat=True).get() == 0

    shown = page(nurse, subject)
    (row,) = shown.context["samples"]
    assert row.cells == [results[a] for a in Analyte.values]
    html = shown.content.decode()
    for label in shown.context["analytes"]:
        assert f"<th>{label}</th>" in html


def test_the_page_speaks_chinese(client_as, subject):
    html = page(client_as("clinician"), subject, "zh-hans").content.decode()
    today = clock.today().isoformat()  # a date picker shows only an ISO value
    assert f'name="collected_on" value="{today}"' in html
    assert f'name="tested_on" value="{today}"' in html
    for chinese in (
        "芬太尼",
        "曲马多",
        "丁丙诺啡",
        "苯二氮䓬类",
        "美沙酮",
        "EDDP",
        "梅毒",
        "乙型肝炎",
    ):
        assert chinese in html


@pytest.mark.parametrize("extra", [{}, {"opiates": "negative"}])
def test_an_unknown_analyte_in_the_form_is_refused_and_nothing_written(client_as, subject, extra):
    url = reverse("labs:record_urine", args=[subject.external_id])
    data = urine_post(heroin="positive", **extra)
    response = client_as("nurse").post(url, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "Unknown analyte: heroin" in response.context["urine_form"].non_field_errors()
    assert "Unknown analyte: heroin" in response.content.decode()
    assert not UrineSample.objects.exists() and not UrineResult.objects.exists()

    chinese = client_as("nurse").post(url, data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chinese.status_code == 400
    assert "未知的检测项目：heroin" in chinese.content.decode()
    assert not UrineSample.objects.exists()


def test_the_form_alone_refuses_an_unknown_analyte():
    form = UrineSampleForm({**urine_post(opiates="negative"), "a_lsd": "positive"})
    assert not form.is_valid()
    assert "results" not in form.cleaned_data
    assert any("lsd" in str(e) for e in form.non_field_errors())


@pytest.mark.parametrize("test", NEW_TESTS)
def test_the_form_offers_and_stores_each_new_test(client_as, subject, test):
    clinician = client_as("clinician")
    shown = page(clinician, subject)
    choices = dict(shown.context["test_form"].fields["test"].choices)
    assert test in choices
    assert f'value="{test}"' in shown.content.decode()

    url = reverse("labs:record_test", args=[subject.external_id])
    data = {"tested_on": "2025-03-01", "test": test, "result": "negative"}
    assert clinician.post(url, data).status_code == 302
    row = InfectionTest.objects.get(client=subject)
    assert (row.test, row.result, row.tested_on) == (test, "negative", date(2025, 3, 1))
    again = page(clinician, subject)
    assert again.context["tests"] == [row]
    assert str(Kind(test).label) in again.content.decode()


def test_an_unknown_test_is_refused_with_a_message_and_nothing_written(client_as, subject):
    url = reverse("labs:record_test", args=[subject.external_id])
    data = {"tested_on": "2025-03-01", "test": "hiv2", "result": "negative"}
    response = client_as("clinician").post(url, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.context["test_form"].errors["test"]
    assert not InfectionTest.objects.exists()


def test_the_actions_refuse_unknown_names(subject, users):
    with pytest.raises(Refusal):
        actions.record_test(subject, date(2025, 3, 1), "hiv2", "negative", by=users["clinician"])
    with pytest.raises(Refusal):
        actions.record_urine_sample(
            subject, date(2025, 3, 1), {"opiates": "negative", "lsd": "positive"}, by=users["nurse"]
        )
    assert not InfectionTest.objects.exists() and not UrineSample.objects.exists()
    for test in NEW_TESTS:
        actions.record_test(subject, date(2025, 3, 1), test, "positive", by=users["clinician"])
    assert set(InfectionTest.objects.values_list("test", flat=True)) == set(NEW_TESTS)


def test_the_database_refuses_an_unknown_analyte_or_test(subject):
    sample = UrineSample.objects.create(client=subject, collected_on=date(2025, 3, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        UrineResult.objects.create(sample=sample, analyte="heroin", result="positive")
    with pytest.raises(IntegrityError), transaction.atomic():
        InfectionTest.objects.create(
            client=subject, tested_on=date(2025, 3, 1), test="hiv2", result="negative"
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        InfectionTest.objects.create(
            client=subject, tested_on=date(2025, 3, 1), test="hbv", result="maybe"
        )
    for analyte in Analyte.values:
        UrineResult.objects.create(sample=sample, analyte=analyte, result="negative")
    for test in Kind.values:
        InfectionTest.objects.create(
            client=subject, tested_on=date(2025, 3, 1), test=test, result="negative"
        )
    # The rebuild of the results table (SQLite) kept the trigger that judges the sample.
    assert UrineSample.objects.values_list("opioid", flat=True).get(pk=sample.pk) == 0
