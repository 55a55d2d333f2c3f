"""The labs screens: who may see and do what, and what they show."""

from datetime import date

import pytest
from django.urls import reverse

from pingan.audit.models import AuditEntry
from pingan.core import clock
from pingan.labs import actions
from pingan.labs.models import InfectionTest, ScheduledUrineTest, UrineSample
from pingan.registry.models import Client, Episode

pytestmark = pytest.mark.django_db


@pytest.fixture
def subject():
    client = Client.objects.create(code="C100", alias="阿明", sex="M", birth_year=1979)
    Episode.objects.create(client=client, enrolled_on=date(2025, 1, 1))
    return client


def urine_post(day=None, **results):
    data = {"collected_on": (day or clock.today()).isoformat(), "observed": "on"}
    data.update({f"a_{k}": v for k, v in results.items()})
    return data


@pytest.mark.parametrize(
    "name,method",
    [
        ("labs:client", "get"),
        ("labs:record_urine", "post"),
        ("labs:record_test", "post"),
        ("labs:schedule", "get"),
        ("labs:generate", "post"),
    ],
)
def test_police_gets_403_everywhere_and_it_is_audited(client_as, subject, name, method):
    args = [subject.external_id] if name.startswith("labs:record") or name == "labs:client" else []
    url = reverse(name, args=args)
    response = getattr(client_as("police"), method)(url)
    assert response.status_code == 403
    assert AuditEntry.objects.filter(action="access_denied", target=url).exists()


def test_nurse_records_a_sample_with_several_analytes(client_as, subject):
    nurse = client_as("nurse")
    url = reverse("labs:record_urine", args=[subject.external_id])
    response = nurse.post(
        url, urine_post(opiates="positive", methadone="positive", eddp="negative")
    )
    assert response.status_code == 302
    sample = UrineSample.objects.get(client=subject)
    assert sample.results.count() == 3 and sample.created_by.username == "nurse1"
    page = nurse.get(reverse("labs:client", args=[subject.external_id]))
    assert page.status_code == 200
    assert "opioid-positive" in page.content.decode() or "阿片阳性" in page.content.decode()


def test_a_sample_without_any_result_is_refused_with_a_message(client_as, subject):
    url = reverse("labs:record_urine", args=[subject.external_id])
    response = client_as("nurse").post(url, urine_post(), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert not UrineSample.objects.exists()
    assert response.context["urine_form"].non_field_errors()


def test_a_bad_result_value_is_refused(client_as, subject):
    url = reverse("labs:record_urine", args=[subject.external_id])
    response = client_as("nurse").post(url, urine_post(opiates="maybe"))
    assert response.status_code == 400
    assert "a_opiates" in response.context["urine_form"].errors
    assert not UrineSample.objects.exists()


def test_tests_are_recorded_by_clinicians_not_nurses(client_as, subject, users):
    url = reverse("labs:record_test", args=[subject.external_id])
    data = {"tested_on": "2025-03-01", "test": "hcv", "result": "positive"}
    assert client_as("nurse").post(url, data).status_code == 403
    assert client_as("clinician").post(url, data).status_code == 302
    assert InfectionTest.objects.get(client=subject).result == "positive"


def test_cdc_sees_history_without_forms(client_as, subject, users):
    actions.record_test(subject, date(2025, 3, 1), "hiv", "negative", by=users["clinician"])
    response = client_as("cdc").get(reverse("labs:client", args=[subject.external_id]))
    assert response.status_code == 200
    assert response.context["urine_form"] is None and response.context["test_form"] is None
    assert len(response.context["tests"]) == 1


def test_schedule_generate_and_mark_done(client_as, subject, users):
    assert client_as("nurse").post(reverse("labs:generate")).status_code == 403
    assert client_as("clinician").post(reverse("labs:generate")).status_code == 302
    month = actions.next_month()
    assert ScheduledUrineTest.objects.filter(client=subject, on__month=month.month).count() == 2

    today = clock.today()
    sample = actions.record_urine_sample(
        subject, today, {"opiates": "negative"}, by=users["clinician"]
    )
    due = ScheduledUrineTest.objects.create(client=subject, on=today)
    nurse = client_as("nurse")
    page = nurse.get(reverse("labs:schedule"))
    assert page.status_code == 200
    assert [row.scheduled for row in page.context["due"]] == [due]
    assert page.context["due"][0].samples_today == [sample]
    done = nurse.post(
        reverse("labs:mark_done", args=[due.external_id]), {"sample": str(sample.external_id)}
    )
    assert done.status_code == 302
    due.refresh_from_db()
    assert due.sample == sample
    junk = nurse.post(reverse("labs:mark_done", args=[due.external_id]), {"sample": "not-a-uuid"})
    assert junk.status_code == 302


def test_manager_may_open_the_schedule_and_draw_it(client_as, subject):
    manager = client_as("manager")
    assert manager.get(reverse("labs:schedule")).status_code == 200
    assert manager.post(reverse("labs:generate")).status_code == 302
