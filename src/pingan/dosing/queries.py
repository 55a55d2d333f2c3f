"""Read models: the facts for one client, the day's queue for all of them, the ledger.

The queue is computed set-based (a fixed handful of queries whatever the number of
clients) and then each row goes through the same `rules.dosing_decision` as a real dose,
so the screen never promises a dose that `actions.record_dose` would refuse.

A client's facts are read in two ways: `fact_sheet` (one SQL statement, for the dose and
the row a nurse opens) and `queue` (a handful of ORM queries for everyone at once). They
must agree; tests/dosing/test_dosing_facts_agree.py holds them to it on random histories.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, Max, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from pingan.core import prepared
from pingan.core.models import Centre
from pingan.registry.models import Client, Episode

from . import badges as queue_badges
from . import interactions, rules
from .limits import DEFAULT_LIMITS, DoseLimits
from .models import (
    Dose,
    DoseKind,
    DosingLimits,
    GuestSlip,
    Hold,
    HoldKind,
    OtherMedicine,
    Prescription,
    Product,
    StockEntry,
    TaperPlan,
    VisitingGuest,
)

# Doses looked at to count missed days; clients with none in this window get one more query.
MISSED_WINDOW_DAYS = 14
NOTE_DAYS = 7
REVIEW_KINDS = (HoldKind.MISSED_DOSE_REVIEW, HoldKind.REINDUCTION)


def thresholds(centre: Centre | None = None) -> rules.Thresholds:
    if centre is None:
        # Read first: on SQLite every transaction takes the write lock, and a read needs none.
        centre = Centre.objects.order_by("pk").first()
    if centre is None:
        try:
            with transaction.atomic():
                centre = Centre.current()
        except IntegrityError:  # two first requests created the centre at the same moment
            centre = Centre.objects.order_by("pk").first()
    return rules.Thresholds(
        review_after_missed_days=centre.review_after_missed_days,
        reinduction_after_missed_days=centre.reinduction_after_missed_days,
        induction_cap_mg=dose_limits(centre).first_dose_max_mg,
    )


def dose_limits(centre: Centre | None = None) -> DoseLimits:
    """The centre's induction and titration limits (the defaults until it sets its own)."""
    rows = DosingLimits.objects.all()
    row = rows.filter(centre=centre).first() if centre else rows.order_by("pk").first()
    return row.as_limits() if row is not None else DEFAULT_LIMITS


def current_medicines(client_ids, today: date) -> dict[int, list[str]]:
    """The other medicines each client takes on `today`, by client id (one query)."""
    found: dict[int, list[str]] = defaultdict(list)
    for client_id, name in (
        OtherMedicine.objects.filter(client_id__in=client_ids, started_on__lte=today)
        .filter(Q(stopped_on__isnull=True) | Q(stopped_on__gte=today))
        .order_by("started_on", "pk")
        .values_list("client_id", "name")
    ):
        found[client_id].append(name)
    return found


def active_product() -> Product | None:
    return Product.objects.filter(active=True).order_by("pk").first()


def product_at(centre_id: int) -> Product | None:
    """The solution in use at a centre (a guest's dose comes from the host's stock)."""
    return Product.objects.filter(active=True, centre_id=centre_id).order_by("pk").first()


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


@dataclass
class FactSheet:
    """The facts for the rules plus what the action and the row need next, read together:
    the prescription in force (the dose records it), today's dose, the open holds."""

    facts: rules.ClientFacts
    prescription_id: int | None = None
    dose_today: Dose | None = None
    holds: list[Hold] = field(default_factory=list)
    has_photo: bool = False
    # Read in the same statement, so a dose costs no round trip for them: the centre's
    # thresholds (None before the centre exists) and the product in use (id, drug, form and
    # strength loaded; None before one exists).
    thresholds: rules.Thresholds | None = None
    product: Product | None = None
    flags: list[interactions.Flag] = field(default_factory=list)


def _fact_sql() -> str:
    tables = {
        "client": Client._meta.db_table,
        "episode": Episode._meta.db_table,
        "prescription": Prescription._meta.db_table,
        "dose": Dose._meta.db_table,
        "hold": Hold._meta.db_table,
        "taper": TaperPlan._meta.db_table,
        "centre": Centre._meta.db_table,
        "product": Product._meta.db_table,
        "limits": DosingLimits._meta.db_table,
        "medicine": OtherMedicine._meta.db_table,
        "slip": GuestSlip._meta.db_table,
        "visit": VisitingGuest._meta.db_table,
    }
    return """SELECT
        (SELECT e.enrolled_on FROM {episode} e WHERE e.client_id = c.id
            AND e.discharged_on IS NULL AND e.enrolled_on <= %s ORDER BY e.enrolled_on LIMIT 1),
        (SELECT d.date FROM {dose} d WHERE d.client_id = c.id AND d.date < %s
            ORDER BY d.date DESC LIMIT 1),
        (SELECT d.capped FROM {dose} d WHERE d.client_id = c.id AND d.date < %s
            ORDER BY d.date DESC LIMIT 1),
        (SELECT MAX(i.start_on) FROM {prescription} i WHERE i.client_id = c.id AND i.induction),
        EXISTS (SELECT 1 FROM {medicine} m WHERE m.client_id = c.id AND m.started_on <= %s
            AND (m.stopped_on IS NULL OR m.stopped_on >= %s)),
        (SELECT d.id FROM {dose} d WHERE d.client_id = c.id AND d.date = %s),
        (SELECT h.cleared_at FROM {hold} h WHERE h.client_id = c.id AND h.kind IN (%s, %s)
            AND h.cleared_at IS NOT NULL ORDER BY h.cleared_at DESC LIMIT 1),
        EXISTS (SELECT 1 FROM {hold} h WHERE h.client_id = c.id AND h.cleared_at IS NULL),
        EXISTS (SELECT 1 FROM {taper} t WHERE t.client_id = c.id AND t.cancelled_at IS NULL),
        c.photo <> '',
        p.id, p.mg, p.start_on,
        ct.review_after_missed_days, ct.reinduction_after_missed_days,
        pr.id, pr.drug, pr.form, pr.strength_mg_per_ml,
        p.override_reason, p.first_part_mg, p.second_part_home, dl.first_dose_max_mg,
        c.centre_id,
        EXISTS (SELECT 1 FROM {slip} s WHERE s.client_id = c.id AND s.cancelled_at IS NULL
            AND s.valid_from <= %s AND s.valid_to >= %s),
        EXISTS (SELECT 1 FROM {visit} v WHERE v.client_id = c.id)
        FROM {client} c
        LEFT JOIN {prescription} p ON p.client_id = c.id AND p.superseded_at IS NULL
        LEFT JOIN {centre} ct ON ct.id = c.centre_id
        LEFT JOIN {limits} dl ON dl.centre_id = ct.id
        LEFT JOIN {product} pr ON pr.id = (SELECT p2.id FROM {product} p2
            WHERE p2.active AND p2.centre_id = c.centre_id ORDER BY p2.id LIMIT 1)
        WHERE c.id = %s""".format(**tables)


def _as_date(value) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _as_moment(value) -> datetime | None:
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value


def fact_sheet(client: Client, today: date, lock: bool = False) -> FactSheet:
    """One statement for the usual case (in treatment, no dose yet today, no open hold, no
    taper): every fact a dose needs is a join or an indexed subquery on the client row.
    Today's dose, open holds and a taper are fetched only when that statement says they
    exist. With `lock`, the client row is locked first (FOR UPDATE, where the database has
    row locks; SQLite's write transaction already excludes every other writer), so the facts
    are read after any concurrent action on this client has committed.

    Written in SQL rather than the ORM because dosing is the busiest write of the day and
    compiling this query through the ORM cost ~3 ms of CPU per dose, ten times running it.
    On PostgreSQL both statements are prepared once per connection (`core.prepared`):
    planning the fact sheet cost the server six times running it."""
    day = connection.ops.adapt_datefield_value(today)
    params = [day, day, day, day, day, day, *REVIEW_KINDS, day, day, client.pk]
    with connection.cursor() as cursor:
        if lock and connection.features.has_select_for_update:
            prepared.execute(
                cursor,
                "client_lock",
                f"SELECT id FROM {Client._meta.db_table} WHERE id = %s FOR UPDATE",
                [client.pk],
            )
        prepared.execute(cursor, "fact_sheet", _fact_sql(), params)
        found = cursor.fetchone()
    if found is None:
        raise Client.DoesNotExist(client.pk)
    enrolled_on, last, last_capped, induction_on, has_medicines = found[:5]
    today_dose, reviewed_at, has_holds, has_taper, photo = found[5:10]
    rx_id, rx_mg, rx_start, review_after, reinduction_after = found[10:15]
    override_reason, first_part, second_home, cap = found[19:23]
    home_centre_id, has_slip, visiting = found[23:26]
    product = None
    if found[15] is not None:
        # SQLite hands back a float for a decimal column: through str() to stay exact.
        strength = Decimal(str(found[18])).quantize(Decimal("0.01"))
        fields = ["id", "drug", "form", "strength_mg_per_ml"]
        product = Product.from_db(connection.alias, fields, [*found[15:18], strength])
    limits = None
    if review_after is not None:
        cap = cap if cap is not None else DEFAULT_LIMITS.first_dose_max_mg
        limits = rules.Thresholds(review_after, reinduction_after, cap)
    enrolled_on = _as_date(enrolled_on)
    dose = None
    if today_dose is not None:
        dose = Dose.objects.select_related("dispenser").get(pk=today_dose)
    holds = []
    if has_holds:
        holds = list(
            Hold.objects.filter(client=client, cleared_at__isnull=True).order_by("created_at")
        )
    taper = None
    if has_taper:
        taper = TaperPlan.objects.filter(client=client, cancelled_at__isnull=True).first()
    facts = rules.ClientFacts(
        code=client.code,
        in_treatment=enrolled_on is not None,
        prescription_mg=rx_mg,
        prescription_start_on=_as_date(rx_start),
        taper=_taper(taper),
        dose_today=dose_today_facts(dose),
        open_holds=tuple(_open_hold(h) for h in holds),
        last_dose_date=_as_date(last),
        counting_from=_counting_from(enrolled_on, _as_moment(reviewed_at)),
        enrolled_on=enrolled_on,
        induction_on=_as_date(induction_on),
        last_dose_capped=bool(last_capped),
        override_reason=override_reason or "",
        split_first_mg=first_part,
        split_second_home=bool(second_home),
        home_centre_id=home_centre_id,
        slip=slip_today(client.pk, today) if has_slip else None,
    )
    if visiting:
        facts = with_visit(
            facts, VisitingGuest.objects.filter(client_id=client.pk), today, reviewed_at
        )
    flags = []
    if has_medicines:
        flags = interactions.flags(current_medicines([client.pk], today)[client.pk])
    return FactSheet(facts, rx_id, dose, holds, bool(photo), limits, product, flags)


def with_visit(facts: rules.ClientFacts, visits, today: date, reviewed_at) -> rules.ClientFacts:
    """The facts of a guest from outside the installation: the slip covering `today` (its
    terms bound the dose), and the home's latest dose, from the slip, for the missed-dose
    rules: the days since it count as missed as they would at home."""
    visit = next((v for v in visits if v.covers(today)), None)
    if visit is None:
        home = next(iter(visits)).home_centre
        return replace(facts, visit=rules.VisitToday(home_centre=home))
    terms = rules.VisitToday(visit.home_centre, visit.first_day, visit.valid_to, visit.dose_mg)
    facts = replace(facts, visit=terms)
    at_home = visit.last_dose_on
    if at_home is None or (facts.last_dose_date and facts.last_dose_date >= at_home):
        return facts
    enrolled_on = min(d for d in (facts.enrolled_on, at_home + timedelta(days=1)) if d)
    return replace(
        facts,
        last_dose_date=at_home,
        enrolled_on=enrolled_on,
        counting_from=_counting_from(enrolled_on, _as_moment(reviewed_at)),
    )


def _slip_terms(slip: GuestSlip) -> rules.SlipToday:
    return rules.SlipToday(slip.host_id, slip.host_name, slip.valid_to, slip.dose_mg)


def open_slips(day: date):
    """The guest slips in force on `day` (not cancelled, the day among theirs)."""
    return GuestSlip.objects.filter(
        cancelled_at__isnull=True, valid_from__lte=day, valid_to__gte=day
    ).select_related("host")


def guest_slip_on(client_id: int, day: date) -> GuestSlip | None:
    """The client's slip in force on `day` (open slips of a client never overlap)."""
    return open_slips(day).filter(client_id=client_id).first()


def slip_today(client_id: int, day: date) -> rules.SlipToday | None:
    slip = guest_slip_on(client_id, day)
    return _slip_terms(slip) if slip is not None else None


def client_facts(client: Client, today: date) -> rules.ClientFacts:
    """The facts about one client that `rules.dosing_decision` needs, read fresh."""
    return fact_sheet(client, today).facts


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
    facts: rules.ClientFacts | None = None  # what the decision was taken on
    flags: list[interactions.Flag] = field(default_factory=list)  # interacting medicines
    badges: list[queue_badges.Badge] = field(default_factory=list)  # from other apps
    # A guest of another centre: its name; and the guest slip covering today, if any.
    guest_from: str = ""
    slip: GuestSlip | None = None

    @property
    def parts(self) -> tuple[int, int] | None:
        """The two parts of today's split dose, when the prescription splits it."""
        return rules.split_parts(self.facts, self.decision) if self.facts else None

    @property
    def second_part_due_mg(self) -> int | None:
        """The observed second part still to give today, if any."""
        dose, facts = self.dose_today, self.facts
        if dose is None or facts is None or facts.split_first_mg is None:
            return None
        if facts.split_second_home or dose.mg != facts.split_first_mg:
            return None
        rest = (facts.prescription_mg or 0) - dose.mg
        return rest if rest > 0 else None

    @property
    def status(self) -> str:
        if self.dose_today is not None:
            return "dosed"
        if self.decision.blocks:
            return "hold"
        return "waiting"


STATUSES = ("waiting", "dosed", "hold")


@dataclass(frozen=True)
class QueueCounts:
    """The day at a glance: due and not yet dosed, dosed here, held (a block stands, the
    nurse cannot dose), away (covered today by a take-home bottle or a guest dose)."""

    waiting: int = 0
    dosed: int = 0
    hold: int = 0
    away: int = 0

    @property
    def expected(self) -> int:
        return self.waiting + self.dosed + self.hold


@dataclass
class QueueDay:
    rows: list[QueueRow]  # after the search and the status filter
    counts: QueueCounts  # the whole day, whatever the filters


def matches(row: QueueRow, search: str) -> bool:
    """The queue's search: part of the client's code or alias, case aside."""
    needle = search.casefold()
    return needle in row.client.code.casefold() or needle in (row.client.alias or "").casefold()


def queue_day(
    today: date, search: str = "", status: str = "", centre_id: int | None = None
) -> QueueDay:
    """The queue with the day's counts: the counts are over everyone expected today, the
    rows are those the search and the status filter keep. With `centre_id`, only that
    centre's clients (a screen passes its current centre); without, every centre's."""
    rows, away = _queue_rows(today, centre_id=centre_id)
    counts = QueueCounts(
        waiting=sum(r.status == "waiting" for r in rows),
        dosed=sum(r.status == "dosed" for r in rows),
        hold=sum(r.status == "hold" for r in rows),
        away=away,
    )
    if search:
        rows = [r for r in rows if matches(r, search)]
    if status:
        rows = [r for r in rows if r.status == status]
    return QueueDay(rows, counts)


def queue(today: date, search: str = "", status: str = "") -> list[QueueRow]:
    """Who is expected today: in treatment, with a prescription, not covered by a take-home
    or guest dose. Each row carries the decision the nurse would get on pressing "Dose"."""
    rows, _away = _queue_rows(today, search)
    return [r for r in rows if not status or r.status == status]


def _queue_rows(
    today: date, search: str = "", centre_id: int | None = None
) -> tuple[list[QueueRow], int]:
    """The rows of everyone expected today (narrowed in SQL by `search`), and how many
    more are away: covered today by a take-home bottle or a guest dose."""
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
        .select_related("client", "client__centre")
        .defer("client__photo")
        .order_by("client__code")
    )
    if search:
        prescriptions = prescriptions.filter(
            Q(client__code__icontains=search) | Q(client__alias__icontains=search)
        )
    slips = {s.client_id: s for s in open_slips(today)}
    if centre_id is not None:
        # The centre's own clients, and the guests its slips send it today.
        guests = [c for c, s in slips.items() if s.host_id == centre_id]
        prescriptions = prescriptions.filter(
            Q(client__centre_id=centre_id) | Q(client_id__in=guests)
        )
    prescriptions = list(prescriptions)
    if not prescriptions:
        return [], 0

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
    inductions = dict(
        Prescription.objects.filter(induction=True)
        .values("client_id")
        .annotate(on=Max("start_on"))
        .values_list("client_id", "on")
    )
    capped = set(Dose.objects.filter(capped=True, date__lt=today).values_list("client_id", "date"))
    visits: dict[int, list[VisitingGuest]] = defaultdict(list)
    for visit in VisitingGuest.objects.filter(client_id__in=[p.client_id for p in prescriptions]):
        visits[visit.client_id].append(visit)
    medicines = current_medicines([p.client_id for p in prescriptions], today)
    # The centre's own solution; every client's missed-dose thresholds are their home
    # centre's (the rules follow the person), read once per centre.
    product = product_at(centre_id) if centre_id is not None else active_product()
    host_product = product
    limits_of: dict[int, rules.Thresholds] = {}

    extra = queue_badges.for_clients(today, [p.client_id for p in prescriptions])

    rows: list[QueueRow] = []
    away = 0
    for p in prescriptions:
        dose = today_doses.get(p.client_id)
        slip = slips.get(p.client_id)
        is_guest = centre_id is not None and p.client.centre_id != centre_id
        if dose is not None and dose.kind != DoseKind.CLINIC and not is_guest:
            away += 1  # covered by a take-home bottle or a guest dose: not expected here
            continue
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
            enrolled_on=p.enrolled_on,
            induction_on=inductions.get(p.client_id),
            last_dose_capped=(p.client_id, last_dose.get(p.client_id)) in capped,
            override_reason=p.override_reason,
            split_first_mg=p.first_part_mg,
            split_second_home=p.second_part_home,
            home_centre_id=p.client.centre_id,
            slip=_slip_terms(slip) if slip is not None else None,
        )
        if p.client_id in visits:
            facts = with_visit(facts, visits[p.client_id], today, reviewed.get(p.client_id))
            if facts.visit.first_day is None:
                continue  # a guest from outside whose slip does not cover today: not expected
        home = p.client.centre_id
        if home not in limits_of:
            limits_of[home] = thresholds(p.client.centre)
        decision = rules.dosing_decision(facts, today, limits_of[home], at_centre=centre_id)
        row = QueueRow(
            client=p.client,
            has_photo=p.has_photo,
            prescription_mg=p.mg,
            decision=decision,
            dose_today=dose,
            holds=client_holds,
            notes=notes.get(p.client_id, []),
            facts=facts,
            flags=interactions.flags(medicines.get(p.client_id, [])),
            badges=extra.get(p.client_id, []),
            guest_from=p.client.centre.name if is_guest else "",
            slip=slip,
        )
        given_from = host_product if is_guest else product
        if decision.mg and given_from is not None:
            row.volume_ml = volume_ml(decision.mg, given_from.strength_mg_per_ml)
        rows.append(row)
    return rows, away


def row_for(client: Client, today: date, centre_id: int | None = None) -> QueueRow:
    """One queue row, for the htmx partials (same rules as the whole queue), as the centre
    `centre_id` sees it (None: the client's own)."""
    sheet = fact_sheet(client, today)
    decision = rules.dosing_decision(
        sheet.facts, today, sheet.thresholds or thresholds(), at_centre=centre_id
    )
    is_guest = centre_id is not None and client.centre_id != centre_id
    product = sheet.product
    dose = sheet.dose_today
    row = QueueRow(
        client=client,
        has_photo=sheet.has_photo,
        prescription_mg=sheet.facts.prescription_mg or 0,
        decision=decision,
        dose_today=dose
        if dose is not None and (dose.kind == DoseKind.CLINIC or is_guest)
        else None,
        holds=sheet.holds,
        facts=sheet.facts,
        flags=sheet.flags,
        badges=queue_badges.for_clients(today, [client.pk]).get(client.pk, []),
        guest_from=client.centre.name if is_guest else "",
        slip=guest_slip_on(client.pk, today) if sheet.facts.slip is not None else None,
    )
    if is_guest:
        product = product_at(centre_id)
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


def balances(centre_id: int | None = None) -> list[tuple[Product, Decimal]]:
    """Each product's balance, of one centre's stock when `centre_id` is given."""
    products = Product.objects.order_by("-active", "pk")
    if centre_id is not None:
        products = products.filter(centre_id=centre_id)
    return [(p, balance_at(p)) for p in products]


def dispensing_log(day: date, centre_id: int | None = None):
    """The controlled-drug dispensing log for a day, in the order the doses were given: of
    one centre (the doses given there, its guests' included) when `centre_id` is given."""
    doses = Dose.objects.all()
    if centre_id is not None:
        doses = doses.filter(
            Q(centre_id=centre_id) | Q(centre__isnull=True, client__centre_id=centre_id)
        )
    return (
        doses.filter(date=day, returned__isnull=True)  # not doses given outside
        .select_related("client", "dispenser")
        .prefetch_related("parts__dispenser")
        .defer("client__photo")
        .order_by("given_at", "pk")
    )


@dataclass
class LogLine:
    """One line of the dispensing log: a whole dose, or one part of a split dose."""

    dose: Dose
    given_at: datetime
    mg_in_clinic: int
    mg_taken_home: int
    volume_ml: Decimal
    dispenser: object
    part: int | None = None


def dispensing_lines(day: date, centre_id: int | None = None) -> list[LogLine]:
    """The log's lines for a day (of one centre when `centre_id` is given): each part of a
    split dose is a line of its own (each was measured and handed over), every other dose
    one line."""
    lines = []
    for dose in dispensing_log(day, centre_id):
        parts = list(dose.parts.all())
        if not parts:
            lines.append(
                LogLine(
                    dose,
                    dose.given_at,
                    dose.mg_in_clinic,
                    dose.mg_taken_home,
                    dose.volume_ml,
                    dose.dispenser,
                )
            )
        for part in parts:
            home = part.mg if part.taken_home else 0
            lines.append(
                LogLine(
                    dose,
                    part.given_at,
                    part.mg - home,
                    home,
                    part.volume_ml,
                    part.dispenser,
                    part.part,
                )
            )
    return sorted(lines, key=lambda line: (line.given_at, line.dose.pk, line.part or 0))
