"""Read models of the take-home app: the standard in force, the administrative facts, and one
client's history through the ORM (the per-client engine). The set-based list for every client
at once is in `nightly` (the database) and `duck` (Parquet at national scale); the property
test checks that all of them agree.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q

from pingan.core import clock
from pingan.dosing.models import Dose
from pingan.labs.models import UrineResult
from pingan.lockbox.models import Box
from pingan.registry.models import Client, Consent, Episode

from . import rules
from .models import RecordCheck, Standard, Suspension
from .standard import Rules, default_document, parse, profile_rules


def _shipped_default() -> Standard:
    """Version 1 is created by a data migration; a flushed test database gets it back here."""
    try:
        with transaction.atomic():
            return Standard.objects.create(
                version=1,
                profile="pingan",
                document=default_document("pingan"),
                drafted_at=clock.now(),
                note="Shipped default, in force until a signed version replaces it.",
                shipped_default=True,
            )
    except IntegrityError:
        return Standard.objects.get(version=1)


def standard_in_force(day: date | None = None) -> Standard:
    """The latest fully signed version in force on or before `day`, else the shipped default.
    Latest by version: a version signed to take effect on a later day never comes back into
    force over a newer one that both sides signed meanwhile."""
    day = day or clock.today()
    signed = (
        Standard.objects.filter(effective_on__isnull=False, effective_on__lte=day)
        .order_by("-version")
        .first()
    )
    if signed is not None:
        return signed
    default = Standard.objects.filter(shipped_default=True).order_by("version").first()
    return default or _shipped_default()


def rules_of(standard: Standard) -> Rules:
    return parse(standard.profile, standard.document)


def rules_for(day: date, profile: str | None = None) -> Rules:
    """The rules to evaluate with: a shipped profile by name, or the standard in force."""
    if profile:
        return profile_rules(profile)
    return rules_of(standard_in_force(day))


# In treatment on a day -------------------------------------------------------------------


def episodes_on(day: date):
    """Episodes open on `day`: enrolled on or before it and not discharged by then."""
    return Episode.objects.filter(enrolled_on__lte=day).filter(
        Q(discharged_on__isnull=True) | Q(discharged_on__gt=day)
    )


def enrolment_of(client: Client, day: date) -> date | None:
    return (
        episodes_on(day)
        .filter(client=client)
        .order_by("-enrolled_on")
        .values_list("enrolled_on", flat=True)
        .first()
    )


# Administrative facts ----------------------------------------------------------------------


def _live_on(day: date):
    return Q(given_on__lte=day) & (Q(revoked_on__isnull=True) | Q(revoked_on__gt=day))


def _suspended_on(day: date):
    """Suspensions standing on `day`: now for today or a day ahead, at its end for a past day."""
    zone = clock.localtime().tzinfo
    at = min(clock.now(), datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone))
    return Q(suspended_at__lte=at) & (Q(lifted_at__isnull=True) | Q(lifted_at__gt=at))


def _box_on(day: date):
    return (
        Q(client__isnull=False)
        & (Q(issued_on__isnull=True) | Q(issued_on__lte=day))
        & (Q(retired_on__isnull=True) | Q(retired_on__gt=day))
    )


def admin_facts(client: Client, day: date) -> rules.AdminFacts:
    check = (
        RecordCheck.objects.filter(client=client, checked_on__lte=day)
        .order_by("-checked_on", "-pk")
        .values_list("checked_on", "passed")
        .first()
    )
    return rules.AdminFacts(
        record_check=tuple(check) if check else None,
        lockbox=Box.objects.filter(_box_on(day), client=client).exists(),
        consents=frozenset(
            Consent.objects.filter(_live_on(day), client=client).values_list("purpose", flat=True)
        ),
        suspended=Suspension.objects.filter(_suspended_on(day), client=client).exists(),
    )


def all_admin_facts(day: date, client_ids=None) -> dict[int, rules.AdminFacts]:
    """The administrative facts of many clients at once: of `client_ids`, or of everyone.

    A few thousand ids go into the queries; beyond that everyone is read and the rest
    dropped, since a query holds only so many parameters."""
    wanted = None if client_ids is None else set(client_ids)
    scope = Q()
    if wanted is not None and len(wanted) <= 2_000:
        scope = Q(client_id__in=wanted)
    checks: dict[int, tuple[date, bool]] = {}
    for client_id, on, passed in (
        RecordCheck.objects.filter(scope, checked_on__lte=day)
        .order_by("checked_on", "pk")
        .values_list("client_id", "checked_on", "passed")
    ):
        checks[client_id] = (on, passed)
    boxes = set(Box.objects.filter(scope, _box_on(day)).values_list("client_id", flat=True))
    consents: dict[int, set[str]] = defaultdict(set)
    for client_id, purpose in Consent.objects.filter(scope, _live_on(day)).values_list(
        "client_id", "purpose"
    ):
        consents[client_id].add(purpose)
    suspended = set(
        Suspension.objects.filter(scope, _suspended_on(day)).values_list("client_id", flat=True)
    )
    ids = set(checks) | boxes | set(consents) | suspended
    if wanted is not None:
        ids &= wanted
    return {
        i: rules.AdminFacts(
            checks.get(i), i in boxes, frozenset(consents.get(i, ())), i in suspended
        )
        for i in ids
    }


# The per-client engine -----------------------------------------------------------------------


def history(client: Client, day: date) -> rules.History | None:
    """One client's record through the ORM, or None if not in treatment on `day`."""
    enrolled = enrolment_of(client, day)
    if enrolled is None:
        return None
    doses = Dose.objects.filter(client=client, date__gte=enrolled, date__lt=day)
    results = UrineResult.objects.filter(
        sample__client=client,
        sample__collected_on__gte=enrolled,
        sample__collected_on__lt=day,
    ).values_list("sample_id", "sample__collected_on", "analyte", "result")
    return rules.History(
        code=client.code,
        enrolled_on=enrolled,
        dose_days=frozenset(doses.values_list("date", flat=True)),
        samples=rules.opioid_samples(list(results)),
        admin=admin_facts(client, day),
    )


def evaluate_client(client: Client, day: date, rules_: Rules | None = None):
    """The decision for one client on the day (None if not in treatment then)."""
    found = history(client, day)
    if found is None:
        return None
    return rules.evaluate(found, rules_ or rules_for(day), day)


def evaluate_per_client(day: date, rules_: Rules, clients=None) -> list[rules.Decision]:
    """Client by client through the ORM: the reference the set-based engine is measured by."""
    if clients is None:
        ids = episodes_on(day).values_list("client_id", flat=True)
        clients = Client.objects.filter(pk__in=ids).defer("photo").order_by("code")
    out = []
    for client in clients:
        decision = evaluate_client(client, day, rules_)
        if decision is not None:
            out.append(decision)
    return out
