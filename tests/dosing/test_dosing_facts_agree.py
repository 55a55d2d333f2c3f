"""A client's dosing facts are read twice: `queries.fact_sheet` (one SQL statement, for the
dose itself and the row a nurse opens) and `queries.queue` (a few ORM queries for every
client at once). On random histories — enrolments and discharges, prescriptions that
supersede each other, tapers, doses of every kind with missed days between them, holds
placed and cleared at any minute of the day — both give the same facts, the same decision
and the same row, on whichever database the tests run."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from pingan.dosing import queries, rules
from pingan.dosing.models import Dose, DoseKind, Hold, HoldKind, Prescription, Product, TaperPlan
from pingan.registry.models import Client, Episode

TODAY = date(2026, 3, 10)
MIDNIGHT = timezone.make_aware(datetime.combine(TODAY, time.min))  # the centre's midnight

# Minutes before today's local midnight: any minute of the last 40 days, and the minutes
# either side of a midnight on purpose (a hold cleared at 23:59 or 00:00 counts from
# different days).
minutes_back = st.one_of(
    st.integers(-600, 40 * 1440),
    st.builds(lambda d, m: d * 1440 + m, st.integers(-1, 40), st.sampled_from([-1, 0, 1])),
)


def _rarely(rare, usual):
    """`rare` one time in eight, `usual` otherwise."""
    return st.integers(0, 7).flatmap(lambda k: rare if k == 7 else usual)


episode_spec = st.fixed_dictionaries(
    {
        "enrol_back": st.integers(-3, 90),  # negative: enrolled in the future
        "earlier": st.one_of(st.none(), st.integers(1, 30)),  # a closed episode before
        "open": st.integers(0, 7).map(lambda k: k < 7),
    }
)
prescription_spec = st.fixed_dictionaries(
    {"start_back": st.integers(-3, 60), "mg": st.integers(1, 400)}
)
taper_spec = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {
            "start_back": st.integers(-5, 40),
            "from_mg": st.integers(20, 200),
            "down_by": st.integers(1, 20),
            "step_mg": st.integers(1, 20),
            "every_days": st.integers(1, 7),
            "cancelled": st.booleans(),
        }
    ),
)
dose_spec = st.fixed_dictionaries(
    {
        "kind": st.sampled_from([DoseKind.CLINIC] * 4 + [DoseKind.TAKEHOME, DoseKind.GUEST]),
        "mg": st.integers(1, 400),
        "note": st.sampled_from(["", "", "vomited"]),
    }
)
hold_spec = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(HoldKind.values),
        "placed_back": minutes_back,
        "cleared_after": st.one_of(st.none(), st.integers(1, 20 * 1440)),
    }
)
client_spec = st.fixed_dictionaries(
    {
        # Mostly clients the queue expects (one in eight is not, each way), so most examples
        # compare rows.
        "episode": _rarely(st.none(), episode_spec),
        "prescriptions": _rarely(st.just([]), st.lists(prescription_spec, min_size=1, max_size=3)),
        "superseded_all": _rarely(st.just(True), st.just(False)),
        "taper": taper_spec,
        # Day offsets back from today (0 is today); the gaps between them are missed days.
        "doses": st.dictionaries(st.integers(0, 30), dose_spec, max_size=12),
        "holds": st.lists(hold_spec, max_size=4),
        "photo": st.booleans(),
    }
)


def _at(minutes: int) -> datetime:
    return MIDNIGHT - timedelta(minutes=minutes)


def build(index: int, spec: dict, clinician) -> Client:
    """One client with the history `spec` describes, written straight to the tables (the
    two readers read tables; they must agree on any history the constraints allow)."""
    client = Client.objects.create(
        code=f"PA-{index:04d}",
        alias=f"A{index}",
        sex="M",
        birth_year=1980,
        photo="image/png;aGk=" if spec["photo"] else "",
    )
    episode = spec["episode"]
    if episode is not None:
        enrolled = TODAY - timedelta(days=episode["enrol_back"])
        if episode["earlier"] is not None:
            left = enrolled - timedelta(days=1)
            Episode.objects.create(
                client=client,
                enrolled_on=left - timedelta(days=episode["earlier"]),
                discharged_on=left,
            )
        Episode.objects.create(
            client=client,
            enrolled_on=enrolled,
            discharged_on=None if episode["open"] else max(enrolled, TODAY - timedelta(days=1)),
        )
    written = spec["prescriptions"]
    for n, rx in enumerate(written):
        last = n == len(written) - 1
        row = Prescription.objects.create(
            client=client,
            mg=rx["mg"],
            start_on=TODAY - timedelta(days=rx["start_back"]),
            clinician=clinician,
            reason="order",
            superseded_at=None if last and not spec["superseded_all"] else _at(2000 - n),
        )
        Prescription.objects.filter(pk=row.pk).update(created_at=_at(3000 - n))
    taper = spec["taper"]
    if taper is not None:
        TaperPlan.objects.create(
            client=client,
            start_on=TODAY - timedelta(days=taper["start_back"]),
            from_mg=taper["from_mg"],
            to_mg=taper["from_mg"] - taper["down_by"],
            step_mg=taper["step_mg"],
            every_days=taper["every_days"],
            clinician=clinician,
            reason="taper",
            cancelled_at=_at(10) if taper["cancelled"] else None,
        )
    for back, dose in spec["doses"].items():
        mg, kind = dose["mg"], dose["kind"]
        Dose.objects.create(
            client=client,
            date=TODAY - timedelta(days=back),
            kind=kind,
            mg=mg,
            mg_in_clinic=0 if kind == DoseKind.TAKEHOME else mg,
            mg_taken_home=mg if kind == DoseKind.TAKEHOME else 0,
            strength_mg_per_ml=Decimal("1"),
            volume_ml=Decimal(mg),
            given_at=_at(back * 1440 - 9 * 60),
            dispenser=clinician,
            note=dose["note"],
        )
    open_kinds = set()
    for n, hold in enumerate(spec["holds"]):
        placed = _at(hold["placed_back"]) + timedelta(seconds=n)  # no two at one instant
        cleared = None
        if hold["cleared_after"] is not None:
            cleared = placed + timedelta(minutes=hold["cleared_after"])
        if cleared is None or cleared > MIDNIGHT + timedelta(hours=12):
            if hold["kind"] in open_kinds:
                continue  # one open hold per kind, as the constraint says
            open_kinds.add(hold["kind"])
            cleared = None
        row = Hold.objects.create(client=client, kind=hold["kind"], reason="r", cleared_at=cleared)
        Hold.objects.filter(pk=row.pk).update(created_at=placed)
    return client


# Each example writes its clients in a transaction rolled back at its end, so the `users`
# fixture, made once per test, is safe to share between examples.
EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.django_db
@EXAMPLES
@given(specs=st.lists(client_spec, min_size=1, max_size=5))
def test_fact_sheet_and_queue_agree(specs, users):
    with transaction.atomic():
        Product.objects.create(name="Methadone 1 mg/ml", strength_mg_per_ml=Decimal("1"))
        clients = [build(i, spec, users["clinician"]) for i, spec in enumerate(specs)]
        rows = {row.client.pk: row for row in queries.queue(TODAY)}
        limits = queries.thresholds()
        event(f"rows in the queue: {min(len(rows), 3)}{'+' if len(rows) > 3 else ''}")
        for client in clients:
            sheet = queries.fact_sheet(client, TODAY)
            expected = (
                sheet.facts.in_treatment
                and sheet.prescription_id is not None
                and (sheet.dose_today is None or sheet.dose_today.kind == DoseKind.CLINIC)
            )
            assert (client.pk in rows) == expected, client.code
            if not expected:
                continue
            row, single = rows[client.pk], queries.row_for(client, TODAY)
            # --hypothesis-show-statistics: how often each decision was compared
            event("dose" if row.decision.can_dose else row.decision.blocks[0].code)
            assert row.facts == sheet.facts == single.facts
            assert row.decision == rules.dosing_decision(sheet.facts, TODAY, limits)
            assert row.decision == single.decision
            assert row.holds == single.holds
            assert row.dose_today == single.dose_today
            assert row.has_photo == single.has_photo
            assert row.prescription_mg == single.prescription_mg
            assert row.volume_ml == single.volume_ml
        transaction.set_rollback(True)
