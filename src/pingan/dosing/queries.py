"""Read models: the facts for one client, the day's queue for all of them, the ledger.

The queue is computed set-based (a fixed handful of queries whatever the number of
clients) and then each row goes through the same `rules.dosing_decision` as a real dose,
so the screen never promises a dose that `actions.record_dose` would refuse.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import BooleanField, ExpressionWrapper, Max, OuterRef, Q, Subquery
from django.utils import timezone

from pingan.core.models import Centre
from pingan.registry.models import Client, Episode

from . import rules
from .models import Dose, DoseKind, Hold, HoldKind, Prescription, Product, StockEntry, TaperPlan

# Doses looked at to count missed days; clients with none in this window get one more query.
MISSED_WINDOW_DAYS = 14
NOTE_DAYS = 7
REVIEW_KINDS = (HoldKind.MISSED_DOSE_REVIEW, HoldKind.REINDUCTION)


def thresholds(centre: Centre | None = None) -> rules.Thresholds:
    if centre is None:
        try:
            with transaction.atomic():
                centre = Centre.current()
        except IntegrityError:  # two first requests created the centre at the same moment
            centre = Centre.objects.order_by("pk").first()
    return rules.Thresholds(
        review_after_missed_days=centre.review_after_missed_days,
        reinduction_after_missed_days=centre.reinduction_after_missed_days,
    )


def active_product() -> Product | None:
    return Product.objects.filter(active=True).order_by("pk").first()


def volume_ml(mg: int, strength: Decimal) -> Decimal:
    """Millilitres of solution for `mg`, to the hundredth of a ml (the measure's precision)."""
    return (Decimal(mg) / Decimal(strength)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _taper(plan: TaperPlan | None) -> rules.Taper | None:
    if plan is None:
        return None
    return rules.Taper(plan.start_on, plan.from_mg, plan.to_mg, plan.step_mg, plan.every_days)


def dose_today_facts(dose: Dose | None) -> rules.DoseToday | None:
    if dose is None:
        return None
    by = dose.dispenser.get_username() if dose.dispenser_id else ""
    return rules.DoseToday(kind=dose.kind, given_at=dose.given_at, by=by)


def _open_hold(hold: Hold) -> rules.OpenHold:
    return rules.OpenHold(kind=hold.kind, label=str(hold.get_kind_display()), reason=hold.reason)


def _counting_from(enrolled_on: date | None, reviewed_at: datetime | None) -> date | None:
    reviewed_on = timezone.localdate(reviewed_at) if reviewed_at else None
    candidates = [d for d in (enrolled_on, reviewed_on) if d is not None]
    return max(candidates) if candidates else None


def client_facts(client: Client, today: date) -> rules.ClientFacts:
    """The facts about one client that `rules.dosing_decision` needs, read fresh."""
    episode = (
        Episode.objects.filter(client=client, discharged_on__isnull=True, enrolled_on__lte=today)
        .only("enrolled_on")
        .first()
    )
    prescription = Prescription.objects.filter(client=client, superseded_at__isnull=True).first()
    taper = TaperPlan.objects.filter(client=client, cancelled_at__isnull=True).first()
    dose = Dose.objects.filter(client=client, date=today).select_related("dispenser").first()
    holds = Hold.objects.filter(client=client, cleared_at__isnull=True).order_by("created_at")
    last = Dose.objects.filter(client=client, date__lt=today).aggregate(d=Max("date"))["d"]
    reviewed = Hold.objects.filter(
        client=client, kind__in=REVIEW_KINDS, cleared_at__isnull=False
    ).aggregate(at=Max("cleared_at"))["at"]
    return rules.ClientFacts(
        code=client.code,
        in_treatment=episode is not None,
        prescription_mg=prescription.mg if prescription else None,
        prescription_start_on=prescription.start_on if prescription else None,
        taper=_taper(taper),
        dose_today=dose_today_facts(dose),
        open_holds=tuple(_open_hold(h) for h in holds),
        last_dose_date=last,
        counting_from=_counting_from(episode.enrolled_on if episode else None, reviewed),
    )


@dataclass
class QueueRow:
    client: Client
    has_photo: bool
    prescription_mg: int
    decision: rules.Decision
    dose_today: Dose | None = None
    holds: list[Hold] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    volume_ml: Decimal | None = None

    @property
    def status(self) -> str:
        if self.dose_today is not None:
            return "dosed"
        if self.decision.blocks:
            return "hold"
        return "waiting"


STATUSES = ("waiting", "dosed", "hold")


def queue(today: date, search: str = "", status: str = "") -> list[QueueRow]:
    """Who is expected today: in treatment, with a prescription, not covered by a take-home
    or guest dose. Each row carries the decision the nurse would get on pressing "Dose"."""
    open_episode = Episode.objects.filter(
        client=OuterRef("client"), discharged_on__isnull=True, enrolled_on__lte=today
    ).values("enrolled_on")[:1]
    prescriptions = (
        Prescription.objects.filter(superseded_at__isnull=True)
        .annotate(
            enrolled_on=Subquery(open_episode),
            has_photo=ExpressionWrapper(~Q(client__photo=""), output_field=BooleanField()),
        )
        .filter(enrolled_on__isnull=False)
        .select_related("client")
        .defer("client__photo")
        .order_by("client__code")
    )
    if search:
        prescriptions = prescriptions.filter(
            Q(client__code__icontains=search) | Q(client__alias__icontains=search)
        )
    prescriptions = list(prescriptions)
    if not prescriptions:
        return []

    tapers = {t.client_id: t for t in TaperPlan.objects.filter(cancelled_at__isnull=True)}
    today_doses = {
        d.client_id: d for d in Dose.objects.filter(date=today).select_related("dispenser")
    }
    holds: dict[int, list[Hold]] = defaultdict(list)
    for hold in Hold.objects.filter(cleared_at__isnull=True).order_by("created_at"):
        holds[hold.client_id].append(hold)
    window_start = today - timedelta(days=MISSED_WINDOW_DAYS)
    last_dose = dict(
        Dose.objects.filter(date__gte=window_start, date__lt=today)
        .values("client_id")
        .annotate(last=Max("date"))
        .values_list("client_id", "last")
    )
    without = [p.client_id for p in prescriptions if p.client_id not in last_dose]
    if without:
        last_dose.update(
            Dose.objects.filter(client_id__in=without, date__lt=window_start)
            .values("client_id")
            .annotate(last=Max("date"))
            .values_list("client_id", "last")
        )
    reviewed = dict(
        Hold.objects.filter(kind__in=REVIEW_KINDS, cleared_at__isnull=False)
        .values("client_id")
        .annotate(at=Max("cleared_at"))
        .values_list("client_id", "at")
    )
    notes: dict[int, list[str]] = defaultdict(list)
    for client_id, day, note in (
        Dose.objects.filter(date__gte=today - timedelta(days=NOTE_DAYS), date__lte=today)
        .exclude(note="")
        .order_by("-date")
        .values_list("client_id", "date", "note")
    ):
        notes[client_id].append(f"{day:%m-%d} {note}")
    product = active_product()
    limits = thresholds()

    rows: list[QueueRow] = []
    for p in prescriptions:
        dose = today_doses.get(p.client_id)
        if dose is not None and dose.kind != DoseKind.CLINIC:
            continue  # covered by a take-home bottle or a guest dose: not expected here
        client_holds = holds.get(p.client_id, [])
        facts = rules.ClientFacts(
            code=p.client.code,
            in_treatment=True,
            prescription_mg=p.mg,
            prescription_start_on=p.start_on,
            taper=_taper(tapers.get(p.client_id)),
            dose_today=dose_today_facts(dose),
            open_holds=tuple(_open_hold(h) for h in client_holds),
            last_dose_date=last_dose.get(p.client_id),
            counting_from=_counting_from(p.enrolled_on, reviewed.get(p.client_id)),
        )
        decision = rules.dosing_decision(facts, today, limits)
        row = QueueRow(
            client=p.client,
            has_photo=p.has_photo,
            prescription_mg=p.mg,
            decision=decision,
            dose_today=dose,
            holds=client_holds,
            notes=notes.get(p.client_id, []),
        )
        if decision.mg and product is not None:
            row.volume_ml = volume_ml(decision.mg, product.strength_mg_per_ml)
        if status and row.status != status:
            continue
        rows.append(row)
    return rows


def row_for(client: Client, today: date) -> QueueRow:
    """One queue row, for the htmx partials (same rules as the whole queue)."""
    facts = client_facts(client, today)
    decision = rules.dosing_decision(facts, today, thresholds())
    product = active_product()
    row = QueueRow(
        client=client,
        has_photo=bool(Client.objects.filter(pk=client.pk).exclude(photo="").exists()),
        prescription_mg=facts.prescription_mg or 0,
        decision=decision,
        dose_today=Dose.objects.filter(client=client, date=today, kind=DoseKind.CLINIC)
        .select_related("dispenser")
        .first(),
        holds=list(Hold.objects.filter(client=client, cleared_at__isnull=True)),
    )
    if decision.mg and product is not None:
        row.volume_ml = volume_ml(decision.mg, product.strength_mg_per_ml)
    return row


def end_of_day(day: date) -> datetime:
    """The first instant of the next local day: entries before it belong to `day`."""
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def balance_at(product: Product, moment: datetime | None = None) -> Decimal:
    """The ledger balance (ml) after the last entry before `moment` (now if None)."""
    entries = StockEntry.objects.filter(product=product)
    if moment is not None:
        entries = entries.filter(at__lt=moment)
    last = entries.order_by("-pk").values_list("balance_ml", flat=True).first()
    return last if last is not None else Decimal("0")


def balances() -> list[tuple[Product, Decimal]]:
    return [(p, balance_at(p)) for p in Product.objects.order_by("-active", "pk")]


def dispensing_log(day: date):
    """The controlled-drug dispensing log for a day, in the order the doses were given."""
    return (
        Dose.objects.filter(date=day)
        .select_related("client", "dispenser")
        .defer("client__photo")
        .order_by("given_at", "pk")
    )
