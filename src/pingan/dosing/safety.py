"""Read models for safe prescribing: what a prescription is checked against, one client's
cardiac, medicine and pregnancy record, and the clinician's worklist of clients to look at.

The checks themselves are `prescribing` (pure); this module only gathers their facts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Exists, OuterRef, Subquery
from django.utils.translation import gettext as _

from pingan.core import clock
from pingan.registry.models import Client, Episode

from . import prescribing, queries, rules
from .limits import DoseLimits
from .models import Dose, Ecg, Hold, OtherMedicine, Pregnancy, Prescription, TaperPlan


def _titration(rows: list[dict]) -> tuple[date | None, date | None]:
    """(start of the latest induction or of the first prescription, the last increase)."""
    start = last_increase = None
    previous = None
    for row in rows:
        if row["induction"] or previous is None:
            start = last_increase = row["start_on"]
        elif row["mg"] > previous["mg"]:
            last_increase = row["start_on"]
        previous = row
    return start, last_increase


def latest_ecg(client: Client, today: date) -> Ecg | None:
    return (
        Ecg.objects.filter(client=client, recorded_on__lte=today)
        .order_by("-recorded_on", "-pk")
        .first()
    )


def is_pregnant(client: Client) -> bool:
    return Pregnancy.objects.filter(client=client, ended_on__isnull=True).exists()


def history(client: Client, today: date) -> prescribing.History:
    """The facts `prescribing` checks a new prescription or taper against.

    The dose "from" is what the client would be given today: the prescription under its
    taper and the re-induction cap; with no prescription, the last dose recorded (a client
    whose register was imported); with neither, nothing (the first prescription)."""
    rows = list(
        Prescription.objects.filter(client=client)
        .order_by("created_at", "pk")
        .values("mg", "start_on", "induction", "superseded_at")
    )
    start, last_increase = _titration(rows)
    from_mg = None
    if any(r["superseded_at"] is None for r in rows):
        facts = queries.client_facts(client, today)
        decision = rules.dosing_decision(facts, today, queries.thresholds(client.centre))
        from_mg = decision.mg if decision.mg is not None else facts.prescription_mg
    else:
        from_mg = (
            Dose.objects.filter(client=client, date__lte=today)
            .order_by("-date")
            .values_list("mg", flat=True)
            .first()
        )
    ecg = latest_ecg(client, today)
    medicines = queries.current_medicines([client.pk], today).get(client.pk, [])
    return prescribing.History(
        from_mg=from_mg,
        titration_start_on=start,
        last_increase_on=last_increase,
        qtc_ms=ecg.qtc_ms if ecg else None,
        ecg_on=ecg.recorded_on if ecg else None,
        pregnant=is_pregnant(client),
        medicines=tuple(medicines),
    )


def preview(
    client: Client, mg: int, start_on: date, induction: bool, parts: tuple[int, int] | None
) -> prescribing.Review:
    """What `actions.prescribe` would check, for the confirm screen (nothing written)."""
    today = clock.today()
    return prescribing.review_prescription(
        history(client, today),
        mg,
        start_on,
        today,
        queries.dose_limits(),
        induction=induction,
        first_part_mg=parts[0] if parts else None,
    )


@dataclass
class ClientSafety:
    """The safety part of a client's dosing page."""

    limits: DoseLimits
    history: prescribing.History
    checks: list[prescribing.Check]
    ecgs: list[Ecg]
    medicines: list[OtherMedicine]
    pregnancies: list[Pregnancy]
    overrides: list[Prescription | TaperPlan] = field(default_factory=list)


def client_safety(client: Client, today: date, mg: int | None) -> ClientSafety:
    limits = queries.dose_limits()
    found = history(client, today)
    checks: list[prescribing.Check] = []
    if mg:
        checks += prescribing.cardiac_checks(found, mg, today, limits)
    checks += prescribing.interaction_checks(found)
    if found.pregnant:
        checks.append(prescribing.Check(prescribing.PREGNANT, _pregnant_text()))
    overrides: list = list(
        Prescription.objects.filter(client=client)
        .exclude(overrides="")
        .select_related("clinician")
        .order_by("-created_at")
    )
    overrides += list(
        TaperPlan.objects.filter(client=client)
        .exclude(overrides="")
        .select_related("clinician")
        .order_by("-created_at")
    )
    return ClientSafety(
        limits=limits,
        history=found,
        checks=checks,
        ecgs=list(Ecg.objects.filter(client=client).order_by("-recorded_on", "-pk")[:10]),
        medicines=list(OtherMedicine.objects.filter(client=client)),
        pregnancies=list(Pregnancy.objects.filter(client=client)),
        overrides=overrides,
    )


def _pregnant_text() -> str:
    return _("Pregnant: a taper needs an override; the dose may be split.")


@dataclass
class WorklistRow:
    client: Client
    mg: int
    checks: list[prescribing.Check]
    holds: list[Hold]


def worklist(today: date) -> list[WorklistRow]:
    """Clients in treatment a clinician should look at: an ECG due for their dose, a long
    QTc, an interacting medicine, a pregnancy, or an open hold. A fixed handful of queries
    whatever the number of clients."""
    limits = queries.dose_limits()
    open_episode = Episode.objects.filter(
        client=OuterRef("client"), discharged_on__isnull=True, enrolled_on__lte=today
    )
    ecgs = Ecg.objects.filter(client=OuterRef("client"), recorded_on__lte=today).order_by(
        "-recorded_on", "-pk"
    )
    prescriptions = list(
        Prescription.objects.filter(superseded_at__isnull=True)
        .filter(Exists(open_episode))
        .annotate(
            qtc=Subquery(ecgs.values("qtc_ms")[:1]),
            ecg_on=Subquery(ecgs.values("recorded_on")[:1]),
            pregnant=Exists(
                Pregnancy.objects.filter(client=OuterRef("client"), ended_on__isnull=True)
            ),
        )
        .select_related("client")
        .defer("client__photo")
        .order_by("client__code")
    )
    ids = [p.client_id for p in prescriptions]
    medicines = queries.current_medicines(ids, today)
    holds: dict[int, list[Hold]] = {}
    for hold in Hold.objects.filter(client_id__in=ids, cleared_at__isnull=True).order_by(
        "created_at"
    ):
        holds.setdefault(hold.client_id, []).append(hold)
    rows = []
    for p in prescriptions:
        found = prescribing.History(
            from_mg=p.mg,
            qtc_ms=p.qtc,
            ecg_on=queries._as_date(p.ecg_on),
            pregnant=p.pregnant,
            medicines=tuple(medicines.get(p.client_id, [])),
        )
        checks = prescribing.cardiac_checks(found, p.mg, today, limits)
        checks += prescribing.interaction_checks(found)
        if p.pregnant:
            checks.append(prescribing.Check(prescribing.PREGNANT, _pregnant_text()))
        if checks or p.client_id in holds:
            rows.append(WorklistRow(p.client, p.mg, checks, holds.get(p.client_id, [])))
    return rows
