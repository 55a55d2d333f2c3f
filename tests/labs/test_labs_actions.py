"""Recording samples and tests, and drawing the random schedule, against the database."""

from datetime import date, timedelta

import pytest

from pingan.audit.models import AuditEntry
from pingan.core import clock
from pingan.core.domain import Refusal
from pingan.core.models import Centre
from pingan.labs import actions
from pingan.labs.models import InfectionTest, ScheduledUrineTest, UrineResult, UrineSample
from pingan.registry.models import Client, Episode

pytestmark = pytest.mark.django_db


def enrol(code: str, on: date, discharged: date | None = None) -> Client:
    client = Client.objects.create(code=code, alias=code.lower(), sex="M", birth_year=1980)
    Episode.objects.create(client=client, enrolled_on=on, discharged_on=discharged)
    return client


def test_sample_with_several_analytes_is_one_audited_record(users):
    client = enrol("C1", date(2025, 1, 1))
    sample = actions.record_urine_sample(
        client,
        date(2025, 2, 1),
        {"opiates": "negative", "morphine": "positive", "methadone": "positive"},
        by=users["clinician"],
    )
    assert dict(sample.results.values_list("analyte", "result")) == {
        "opiates": "negative",
        "morphine": "positive",
        "methadone": "positive",
    }
    entry = AuditEntry.objects.get(action="urine_sample")
    assert entry.client_code == "C1" and entry.detail["opioid_positive"] is True


def test_sample_is_all_or_nothing(monkeypatch, users):
    client = enrol("C1", date(2025, 1, 1))

    def broken(*args, **kwargs):
        raise RuntimeError("audit unavailable")

    monkeypatch.setattr(actions, "record", broken)
    with pytest.raises(RuntimeError):
        actions.record_urine_sample(
            client,
            date(2025, 2, 1),
            {"opiates": "negative", "eddp": "positive"},
            by=users["clinician"],
        )
    assert not UrineSample.objects.exists() and not UrineResult.objects.exists()


def test_bad_analyte_and_empty_sample_are_rejected_with_a_message(users):
    client = enrol("C1", date(2025, 1, 1))
    with pytest.raises(Refusal) as caught:
        actions.record_urine_sample(
            client,
            date(2025, 2, 1),
            {"heroin": "positive", "opiates": "negative"},
            by=users["clinician"],
        )
    assert any("heroin" in m for m in caught.value.messages)
    with pytest.raises(Refusal):
        actions.record_urine_sample(client, date(2025, 2, 1), {}, by=users["clinician"])
    with pytest.raises(Refusal):
        actions.record_urine_sample(
            client,
            clock.today() + timedelta(days=1),
            {"opiates": "negative"},
            by=users["clinician"],
        )
    assert not UrineSample.objects.exists()


def test_record_infection_test(users):
    client = enrol("C1", date(2025, 1, 1))
    actions.record_test(client, date(2025, 3, 1), "hiv", "negative", by=users["clinician"])
    assert InfectionTest.objects.get().test == "hiv"
    assert AuditEntry.objects.filter(action="infection_test", client_code="C1").exists()
    with pytest.raises(Refusal):
        actions.record_test(client, date(2025, 3, 1), "flu", "negative", by=users["clinician"])


def test_generate_schedule_counts_distinct_days_in_treatment_and_is_idempotent(users):
    centre = Centre.current()
    centre.urine_tests_per_month = 3
    centre.save()
    enrol("C1", date(2025, 1, 1))
    late = enrol("C2", date(2025, 3, 29))  # only 3 days in treatment in March
    enrol("C3", date(2025, 1, 1), discharged=date(2025, 2, 10))  # not in treatment in March
    decisions = actions.generate_schedule(date(2025, 3, 1), seed=42, by=users["clinician"])
    assert [d.client_code for d in decisions] == ["C1", "C2"]
    rows = ScheduledUrineTest.objects.filter(client__code="C1")
    days = [r.on for r in rows]
    assert len(days) == 3 == len(set(days)) and all(d.month == 3 for d in days)
    assert sorted(ScheduledUrineTest.objects.filter(client=late).values_list("on", flat=True)) == [
        date(2025, 3, 29),
        date(2025, 3, 30),
        date(2025, 3, 31),
    ]
    again = actions.generate_schedule(date(2025, 3, 1), seed=42, by=users["clinician"])
    assert sum(len(d.days) for d in again) == 0
    assert ScheduledUrineTest.objects.count() == 6
    assert AuditEntry.objects.filter(action="urine_schedule").count() == 2


def test_schedule_is_reproducible_with_a_seed_and_skips_holidays(users):
    enrol("C1", date(2025, 1, 1))
    first = actions.generate_schedule(date(2025, 10, 1), seed=9, by=users["clinician"])
    ScheduledUrineTest.objects.all().delete()
    second = actions.generate_schedule(date(2025, 10, 1), seed=9, by=users["clinician"])
    assert first[0].days == second[0].days
    national_day = {date(2025, 10, d) for d in range(1, 9)}
    for seed in range(30):
        decision = actions.generate_schedule(date(2025, 10, 1), seed=seed, by=users["clinician"])[0]
        assert not set(decision.days) & national_day
        ScheduledUrineTest.objects.all().delete()


def test_recording_a_sample_on_a_scheduled_day_marks_it_done(users):
    client = enrol("C1", date(2025, 1, 1))
    due = ScheduledUrineTest.objects.create(client=client, on=date(2025, 2, 3))
    sample = actions.record_urine_sample(
        client, date(2025, 2, 3), {"opiates": "negative"}, by=users["clinician"]
    )
    due.refresh_from_db()
    assert due.sample == sample and sample.scheduled


def test_mark_done_links_only_the_same_clients_sample_of_that_day(users):
    client = enrol("C1", date(2025, 1, 1))
    other = enrol("C2", date(2025, 1, 1))
    sample = actions.record_urine_sample(
        client, date(2025, 2, 3), {"opiates": "negative"}, by=users["clinician"]
    )
    wrong = actions.record_urine_sample(
        other, date(2025, 2, 3), {"opiates": "negative"}, by=users["clinician"]
    )
    due = ScheduledUrineTest.objects.create(client=client, on=date(2025, 2, 3))
    with pytest.raises(Refusal):
        actions.mark_scheduled_done(due, wrong, by=users["clinician"])
    actions.mark_scheduled_done(due, sample, by=users["clinician"])
    due.refresh_from_db()
    assert due.sample == sample
    with pytest.raises(Refusal):
        actions.mark_scheduled_done(due, sample, by=users["clinician"])
