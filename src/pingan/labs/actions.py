"""State changes of the labs app: each runs in one transaction and is audited."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from pingan.audit.log import record
from pingan.core import clock
from pingan.core import closed_days as centre_closed_days
from pingan.core.domain import Refusal, acting, require
from pingan.core.models import Centre
from pingan.registry.models import Client, Episode

from . import rules
from .models import InfectionTest, Result, ScheduledUrineTest, TestKind, UrineResult, UrineSample

# Who may draw the month's random schedule: clinicians (clinical decision) and the manager
# (runs the centre's settings); nurses only carry it out.
SCHEDULE_PERMISSIONS = ("prescribe", "manage_staff")


def _check_date(day: date) -> None:
    if day > clock.today():
        raise Refusal([_("The date %(date)s is in the future.") % {"date": day.isoformat()}])


def record_urine_sample(
    client: Client,
    collected_on: date,
    results: Mapping[str, str],
    observed: bool = True,
    by=None,
) -> UrineSample:
    """One sample with all its analyte results, written together or not at all.

    A random test scheduled for this client on this day is marked done by the sample."""
    require(by, "record_urine")
    problems = rules.validate_results(results)
    if problems:
        messages = []
        for p in problems:
            if not p.analyte:
                messages.append(_("Give at least one analyte result."))
            elif p.analyte not in rules.ANALYTES:
                messages.append(_("Unknown analyte: %(name)s") % {"name": p.analyte})
            else:
                messages.append(
                    _("The result for %(name)s must be positive or negative.") % {"name": p.analyte}
                )
        raise Refusal(messages)
    _check_date(collected_on)
    with acting(by), transaction.atomic():
        sample = UrineSample.objects.create(
            client=client, collected_on=collected_on, observed=observed, created_by=by
        )
        UrineResult.objects.bulk_create(
            UrineResult(sample=sample, analyte=a, result=r) for a, r in sorted(results.items())
        )
        linked = ScheduledUrineTest.objects.filter(
            client=client, on=collected_on, sample__isnull=True
        ).update(sample=sample)
        if linked:
            sample.scheduled = True
            sample.save(update_fields=["scheduled"])
        decision = rules.opioid_positive(results)
        record(
            "urine_sample",
            target=str(sample.external_id),
            client_code=client.code,
            collected_on=collected_on,
            results=dict(sorted(results.items())),
            opioid_positive=decision.positive,
            scheduled=bool(linked),
        )
    return sample


def record_test(client: Client, tested_on: date, test: str, result: str, by=None) -> InfectionTest:
    """An infection test result (HIV, hepatitis B or C, syphilis, TB)."""
    require(by, "record_test")
    messages = []
    if test not in TestKind.values:
        messages.append(_("Unknown test: %(name)s") % {"name": test})
    if result not in Result.values:
        messages.append(_("The result must be positive or negative."))
    if messages:
        raise Refusal(messages)
    _check_date(tested_on)
    with acting(by), transaction.atomic():
        row = InfectionTest.objects.create(
            client=client, tested_on=tested_on, test=test, result=result, created_by=by
        )
        record(
            "infection_test",
            target=str(row.external_id),
            client_code=client.code,
            test=test,
            tested_on=tested_on,
            result=result,
        )
    return row


def closed_days(month: date) -> list[date]:
    """The month's days the centre is closed (clients are dosed for them at home, so no
    sample is drawn): the centre-wide definition in `pingan.core.closed_days`, where a
    make-up working day is open and a year the holiday calendar does not cover has only the
    days entered by hand."""
    days = rules.month_days(month)
    return [c.day for c in centre_closed_days.between(days[0], days[-1])]


def _in_treatment_days(episodes: list[Episode], days: list[date]) -> list[date]:
    """Days from enrolment up to the day before discharge (docs/indicators.md)."""
    return [
        d
        for d in days
        if any(
            e.enrolled_on <= d and (e.discharged_on is None or d < e.discharged_on)
            for e in episodes
        )
    ]


def generate_schedule(month: date, seed: int | None = None, by=None) -> list[rules.ClientSchedule]:
    """Draw the month's random urine tests for every client in treatment that month.

    Idempotent: a client already scheduled is only topped up to the centre's number, so
    running it twice for a month adds nothing the second time."""
    require(by, *SCHEDULE_PERMISSIONS, any_of=True)
    month = month.replace(day=1)
    days = rules.open_days(month, closed_days(month))
    last = rules.month_days(month)[-1]
    per_month = Centre.current().urine_tests_per_month
    with acting(by), transaction.atomic():
        episodes: dict[int, list[Episode]] = defaultdict(list)
        for ep in Episode.objects.filter(enrolled_on__lte=last).exclude(discharged_on__lte=month):
            episodes[ep.client_id].append(ep)
        codes = dict(Client.objects.filter(pk__in=episodes).values_list("pk", "code"))
        existing: dict[int, list[date]] = defaultdict(list)
        for client_id, on in ScheduledUrineTest.objects.filter(
            on__gte=month, on__lte=last
        ).values_list("client_id", "on"):
            existing[client_id].append(on)
        decisions, rows = [], []
        for client_id in sorted(episodes, key=lambda pk: codes[pk]):
            eligible = _in_treatment_days(episodes[client_id], days)
            decision = rules.draw_schedule(
                codes[client_id], month, eligible, per_month, seed=seed, already=existing[client_id]
            )
            decisions.append(decision)
            rows += [
                ScheduledUrineTest(client_id=client_id, on=d, created_by=by) for d in decision.days
            ]
        ScheduledUrineTest.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
        record(
            "urine_schedule",
            target=f"{month:%Y-%m}",
            clients=len(decisions),
            tests=len(rows),
            seeded=seed is not None,
        )
    return decisions


def mark_scheduled_done(scheduled: ScheduledUrineTest, sample: UrineSample, by=None) -> None:
    """Link a recorded sample to the scheduled test it answers (same client, same day)."""
    require(by, "record_urine")
    if sample.client_id != scheduled.client_id or sample.collected_on != scheduled.on:
        raise Refusal([_("That sample is not this client's sample of that day.")])
    with acting(by), transaction.atomic():
        locked = ScheduledUrineTest.objects.select_for_update().get(pk=scheduled.pk)
        if locked.sample_id is not None:
            raise Refusal([_("This scheduled test is already done.")])
        locked.sample = sample
        locked.save(update_fields=["sample"])
        UrineSample.objects.filter(pk=sample.pk).update(scheduled=True)
        record(
            "urine_schedule_done",
            target=str(locked.external_id),
            client_code=scheduled.client.code,
            on=scheduled.on,
            sample=str(sample.external_id),
        )


def next_month(today: date | None = None) -> date:
    today = today or clock.today()
    return (today.replace(day=28) + timedelta(days=4)).replace(day=1)
