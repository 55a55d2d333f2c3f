"""Read models for referral screens, and the referral indicators' inputs (docs/indicators.md).

The indicator functions are the written definition another engine mirrors; each returns a
`Measure` (numerator, denominator). Merged duplicates are left out everywhere: one person
referred twice within the duplicate window counts once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet

from pingan.core import clock
from pingan.dosing.models import Dose
from pingan.labs.models import InfectionTest
from pingan.registry.models import Consent, Episode, Purpose

from . import rules
from .measure import Measure, month_bounds, months_before
from .models import OPEN_STATUSES, CareKind, CareOutcome, CareReferral, PoliceReferral

ENROLLED_WITHIN_DAYS = 30


# --- the officer's view ------------------------------------------------------------------


@dataclass(frozen=True)
class OfficerRow:
    """Everything an officer may see about one of their referrals, and nothing else: what
    they entered themselves, plus the feedback. No status, no dates of the centre's work."""

    external_id: str
    referred_on: date
    station: str
    person_name: str
    person_contact: str
    reason: str
    feedback: str

    @property
    def feedback_text(self) -> str:
        return str(rules.FEEDBACK_TEXT[self.feedback])


def _feedback_consented(client_ids: set[int]) -> set[int]:
    return set(
        Consent.objects.filter(
            client_id__in=client_ids,
            purpose=Purpose.POLICE_REFERRAL_FEEDBACK,
            revoked_on__isnull=True,
        ).values_list("client_id", flat=True)
    )


def officer_rows(officer, external_id=None) -> list[OfficerRow]:
    """The officer's own referrals (never anyone else's). A merged duplicate shows the
    feedback of the referral it joined, since that is where the centre's work went on."""
    rows = list(
        PoliceReferral.objects.filter(officer=officer)
        .select_related("merged_into")
        .order_by("-referred_on", "-created_at")
    )
    if external_id is not None:
        rows = [r for r in rows if r.external_id == external_id]
    effective = {r.pk: (r.merged_into or r) for r in rows}
    consented = _feedback_consented({e.client_id for e in effective.values() if e.client_id})
    return [
        OfficerRow(
            external_id=str(r.external_id),
            referred_on=r.referred_on,
            station=r.station,
            person_name=r.person_name,
            person_contact=r.person_contact,
            reason=r.reason,
            feedback=rules.police_feedback(
                effective[r.pk].status,
                effective[r.pk].client_id is not None,
                effective[r.pk].client_id in consented,
            ),
        )
        for r in rows
    ]


# --- the centre's inbox ------------------------------------------------------------------


def inbox(status: str = "open", centre_id: int | None = None) -> QuerySet[PoliceReferral]:
    """The referrals sent to one centre (every centre when `centre_id` is None)."""
    rows = PoliceReferral.objects.filter(merged_into__isnull=True).select_related(
        "officer", "client"
    )
    if centre_id is not None:
        rows = rows.filter(centre_id=centre_id)
    if status == "open":
        rows = rows.filter(status__in=OPEN_STATUSES)
    elif status and status != "all":
        rows = rows.filter(status=status)
    return rows.order_by("referred_on", "created_at")


def duplicates_of(referral: PoliceReferral) -> list[PoliceReferral]:
    """Other unmerged referrals with the same normalised name or phone within the window
    either side of this one's date, sent to the same centre (found through the blind
    indexes only)."""
    window = timedelta(days=rules.duplicate_window_days())
    same = Q(name_index=referral.name_index)
    if referral.contact_index:
        same |= Q(contact_index=referral.contact_index)
    return list(
        PoliceReferral.objects.filter(
            same,
            centre_id=referral.centre_id,
            merged_into__isnull=True,
            referred_on__gte=referral.referred_on - window,
            referred_on__lte=referral.referred_on + window,
        )
        .exclude(pk=referral.pk)
        .order_by("referred_on", "created_at")
    )


def duplicate_flags(rows: list[PoliceReferral]) -> set[int]:
    """Pks among `rows` that have a possible duplicate, in one pass over candidate rows."""
    if not rows:
        return set()
    window = timedelta(days=rules.duplicate_window_days())
    names = {r.name_index for r in rows}
    phones = {r.contact_index for r in rows if r.contact_index}
    candidates = list(
        PoliceReferral.objects.filter(
            Q(name_index__in=names) | Q(contact_index__in=phones), merged_into__isnull=True
        ).values_list("pk", "name_index", "contact_index", "referred_on", "centre_id")
    )
    flagged: set[int] = set()
    for r in rows:
        for pk, name, phone, on, centre in candidates:
            if pk == r.pk or centre != r.centre_id or abs((on - r.referred_on).days) > window.days:
                continue
            if name == r.name_index or (phone and phone == r.contact_index):
                flagged.add(r.pk)
                break
    return flagged


def overdue_care(today: date | None = None, centre_id: int | None = None) -> QuerySet[CareReferral]:
    """The worklist: due before today and not completed (due today is not yet overdue), of
    one centre's clients when `centre_id` is given."""
    today = today or clock.today()
    rows = CareReferral.objects.all()
    if centre_id is not None:
        rows = rows.filter(client__centre_id=centre_id)
    return (
        rows.filter(due_by__lt=today, completed_on__isnull=True)
        .select_related("client", "partner")
        .order_by("due_by", "client__code")
    )


# --- indicator inputs (docs/indicators.md) ---------------------------------------------------


def _filed(
    first: date, last: date, centre_id: int | None = None, station_id: int | None = None
) -> QuerySet[PoliceReferral]:
    """Referrals filed from `first` to `last`, sent to one centre when `centre_id` is given
    and filed from one police station when `station_id` is (every indicator below takes
    both: a centre's or a station's figure, or the region's without them)."""
    rows = PoliceReferral.objects.filter(
        merged_into__isnull=True, referred_on__gte=first, referred_on__lte=last
    )
    if centre_id is not None:
        rows = rows.filter(centre_id=centre_id)
    return rows if station_id is None else rows.filter(police_station_id=station_id)


def police_referrals(
    period: date | str, centre_id: int | None = None, station_id: int | None = None
) -> Measure:
    """Referrals filed in P (by referral date), merged duplicates excluded. A count."""
    first, last = month_bounds(period)
    return Measure(_filed(first, last, centre_id, station_id).count())


def referrals_enrolled_30d(
    period: date | str, centre_id: int | None = None, station_id: int | None = None
) -> Measure:
    """Of referrals filed in P, those closed as enrolled (with a linked client) with an
    outcome date at most 30 days after the referral date."""
    first, last = month_bounds(period)
    filed = list(
        _filed(first, last, centre_id, station_id).values_list(
            "status", "client_id", "referred_on", "outcome_on"
        )
    )
    enrolled = sum(
        1
        for status, client_id, referred_on, outcome_on in filed
        if status == "enrolled"
        and client_id is not None
        and outcome_on is not None
        and (outcome_on - referred_on).days <= ENROLLED_WITHIN_DAYS
    )
    return Measure(enrolled, len(filed))


def _in_treatment_on(day: date):
    """Episodes covering `day`: from enrolment up to the day before discharge."""
    return Episode.objects.filter(enrolled_on__lte=day).filter(
        Q(discharged_on__isnull=True) | Q(discharged_on__gt=day)
    )


def referred_retained_3m(
    period: date | str, centre_id: int | None = None, station_id: int | None = None
) -> Measure:
    """Of referrals filed in the month 3 months before P, those whose linked client is in
    treatment on P's last day. Referrals that never led to a client count in the
    denominator: the indicator measures referral to lasting treatment."""
    _first, last = month_bounds(period)
    base_first, base_last = month_bounds(months_before(period, 3))
    filed = _filed(base_first, base_last, centre_id, station_id)
    retained = filed.filter(
        Exists(_in_treatment_on(last).filter(client_id=OuterRef("client_id"))),
        client__isnull=False,
    )
    return Measure(retained.count(), filed.count())


def hiv_positive_active_clients(period: date | str, centre_id: int | None = None):
    """Clients dosed at least once in P with a positive HIV test on or before P's last day
    (of one centre when `centre_id` is given)."""
    from pingan.registry.models import Client

    first, last = month_bounds(period)
    clients = Client.objects.all()
    if centre_id is not None:
        clients = clients.filter(centre_id=centre_id)
    return clients.filter(
        Exists(Dose.objects.filter(client_id=OuterRef("pk"), date__gte=first, date__lte=last)),
        Exists(
            InfectionTest.objects.filter(
                client_id=OuterRef("pk"), test="hiv", result="positive", tested_on__lte=last
            )
        ),
    )


def art_linked_share(period: date | str, centre_id: int | None = None) -> Measure:
    """Share of HIV-positive active clients in P with an ART care referral completed as
    "reached care" on or before P's last day."""
    _first, last = month_bounds(period)
    base = hiv_positive_active_clients(period, centre_id)
    linked = base.filter(
        Exists(
            CareReferral.objects.filter(
                client_id=OuterRef("pk"),
                kind=CareKind.ART,
                outcome=CareOutcome.LINKED,
                completed_on__lte=last,
            )
        )
    )
    return Measure(linked.count(), base.count())


# --- the officer's start page --------------------------------------------------------------


@dataclass(frozen=True)
class OfficerSummary:
    filed: int  # every referral the officer filed
    filed_this_month: int
    last_station: str  # the station of their latest referral, to fill in the next one


def officer_summary(officer, today: date) -> OfficerSummary:
    """Counts of the officer's own referrals and the station they last filed from; nothing
    that names a person, so the start page reads no identity."""
    own = PoliceReferral.objects.filter(officer=officer)
    latest = own.order_by("-referred_on", "-created_at").values_list("station", flat=True)
    return OfficerSummary(
        filed=own.count(),
        filed_this_month=own.filter(referred_on__gte=today.replace(day=1)).count(),
        last_station=latest.first() or "",
    )


# --- the bureau's view ---------------------------------------------------------------------


@dataclass(frozen=True)
class BureauRow:
    """One referral as the bureau sees it across stations: who filed it, where from and
    the feedback the officer gets, never the person referred (name, phone, reason)."""

    referred_on: date
    station: str
    officer: str
    feedback: str

    @property
    def feedback_text(self) -> str:
        return str(rules.FEEDBACK_TEXT[self.feedback])


def bureau_rows(first: date, last: date) -> list[BureauRow]:
    """Every station's referrals filed from `first` to `last` (merged duplicates once)."""
    rows = list(
        _filed(first, last)
        .select_related("officer", "police_station")
        .order_by("-referred_on", "-created_at")
    )
    consented = _feedback_consented({r.client_id for r in rows if r.client_id})
    return [
        BureauRow(
            referred_on=r.referred_on,
            station=r.police_station.name if r.police_station_id else r.station,
            officer=r.officer.get_username(),
            feedback=rules.police_feedback(
                r.status, r.client_id is not None, r.client_id in consented
            ),
        )
        for r in rows
    ]
