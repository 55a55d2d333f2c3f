"""Read models of the take-home app: the standard in force, one client's history through the
ORM (the per-client engine), and the same counts set-based in SQL for every client at once.

Both engines hand their counts to `rules.decide`, so they cannot disagree on the thresholds;
the property test checks that they agree on the counts.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from pingan.dosing.models import Dose
from pingan.labs.models import UrineResult, UrineSample
from pingan.lockbox.models import Box
from pingan.registry.models import Client, Consent, Episode

from . import rules
from .models import RecordCheck, Standard
from .standard import Rules, default_document, parse, profile_rules


def _shipped_default() -> Standard:
    """Version 1 is created by a data migration; a flushed test database gets it back here."""
    try:
        with transaction.atomic():
            return Standard.objects.create(
                version=1,
                profile="pingan",
                document=default_document("pingan"),
                drafted_at=timezone.now(),
                note="Shipped default, in force until a signed version replaces it.",
                shipped_default=True,
            )
    except IntegrityError:
        return Standard.objects.get(version=1)


def standard_in_force(day: date | None = None) -> Standard:
    """The latest fully signed version in force on or before `day`, else the shipped default."""
    day = day or timezone.localdate()
    signed = (
        Standard.objects.filter(effective_on__isnull=False, effective_on__lte=day)
        .order_by("-effective_on", "-version")
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
    )


def all_admin_facts(day: date) -> dict[int, rules.AdminFacts]:
    checks: dict[int, tuple[date, bool]] = {}
    for client_id, on, passed in (
        RecordCheck.objects.filter(checked_on__lte=day)
        .order_by("checked_on", "pk")
        .values_list("client_id", "checked_on", "passed")
    ):
        checks[client_id] = (on, passed)
    boxes = set(Box.objects.filter(_box_on(day)).values_list("client_id", flat=True))
    consents: dict[int, set[str]] = defaultdict(set)
    for client_id, purpose in Consent.objects.filter(_live_on(day)).values_list(
        "client_id", "purpose"
    ):
        consents[client_id].add(purpose)
    ids = set(checks) | boxes | set(consents)
    return {
        i: rules.AdminFacts(checks.get(i), i in boxes, frozenset(consents.get(i, ()))) for i in ids
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
    ).values_list("sample__collected_on", "analyte", "result")
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


# The set-based engine --------------------------------------------------------------------------


def _as_date(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _sql(windows: tuple[int, ...]) -> tuple[str, str]:
    episode, dose = Episode._meta.db_table, Dose._meta.db_table
    sample, result = UrineSample._meta.db_table, UrineResult._meta.db_table
    ep = f"""ep AS (
        SELECT client_id, MAX(enrolled_on) AS enrolled_on FROM {episode}
        WHERE enrolled_on <= %(day)s AND (discharged_on IS NULL OR discharged_on > %(day)s)
        GROUP BY client_id)"""
    dose_cols = ", ".join(
        f"SUM(CASE WHEN d.date >= %(s{n})s THEN 1 ELSE 0 END) AS w{n}" for n in windows
    )
    doses_sql = f"""WITH {ep}
        SELECT ep.client_id, {dose_cols} FROM ep JOIN {dose} d ON d.client_id = ep.client_id
        AND d.date >= ep.enrolled_on AND d.date < %(day)s AND d.date >= %(first)s
        GROUP BY ep.client_id"""
    neg_cols = ", ".join(
        f"SUM(CASE WHEN sd.pos = 0 AND sd.day >= %(s{n})s THEN 1 ELSE 0 END) AS n{n}"
        for n in windows
    )
    urine_sql = f"""WITH {ep},
        sd AS (
            SELECT s.client_id, s.collected_on AS day,
                MAX(CASE WHEN r.result = 'positive' THEN 1 ELSE 0 END) AS pos
            FROM {sample} s JOIN {result} r ON r.sample_id = s.id
            JOIN ep ON ep.client_id = s.client_id
            WHERE r.analyte IN ('opiates', 'morphine')
              AND s.collected_on >= ep.enrolled_on AND s.collected_on < %(day)s
            GROUP BY s.client_id, s.collected_on),
        lp AS (SELECT client_id, MAX(CASE WHEN pos = 1 THEN day END) AS last_pos
            FROM sd GROUP BY client_id)
        SELECT sd.client_id, lp.last_pos,
            SUM(CASE WHEN sd.pos = 0 AND (lp.last_pos IS NULL OR sd.day > lp.last_pos)
                THEN 1 ELSE 0 END) AS run, {neg_cols}
        FROM sd JOIN lp ON lp.client_id = sd.client_id
        GROUP BY sd.client_id, lp.last_pos"""
    return doses_sql, urine_sql


def aggregates_set_based(day: date, rules_: Rules) -> list[rules.Aggregates]:
    """The counts for every client in treatment on `day`, in a fixed number of queries."""
    windows = rules_.windows
    params: dict = {"day": day, "first": day - timedelta(days=max(windows))}
    for n in windows:
        params[f"s{n}"] = day - timedelta(days=n)
    doses_sql, urine_sql = _sql(windows)
    enrolled = {
        cid: _as_date(on)
        for cid, on in episodes_on(day)
        .order_by("enrolled_on")
        .values_list("client_id", "enrolled_on")
    }
    # A subquery, not the ids: a national list has more clients than a query has parameters.
    codes = dict(
        Client.objects.filter(pk__in=episodes_on(day).values("client_id")).values_list("pk", "code")
    )
    with connection.cursor() as cursor:
        cursor.execute(doses_sql, params)
        doses = {row[0]: row[1:] for row in cursor.fetchall()}
        cursor.execute(urine_sql, params)
        urine = {row[0]: row[1:] for row in cursor.fetchall()}
    admin = all_admin_facts(day)
    empty_admin = rules.AdminFacts()
    zeros = (0,) * len(windows)
    out = []
    for cid, on in enrolled.items():
        counts = doses.get(cid, zeros)
        last_pos, run, *negs = urine.get(cid, (None, 0, *zeros))
        out.append(
            rules.Aggregates(
                code=codes[cid],
                enrolled_on=on,
                doses_in={n: int(c or 0) for n, c in zip(windows, counts, strict=True)},
                negatives_in={n: int(c or 0) for n, c in zip(windows, negs, strict=True)},
                last_positive=_as_date(last_pos),
                negative_run=int(run or 0),
                admin=admin.get(cid, empty_admin),
            )
        )
    out.sort(key=lambda a: a.code)
    return out


def eligibility(day: date, rules_: Rules | None = None) -> list[rules.Decision]:
    """The nightly list: every client in treatment on `day`, set-based, sorted by code."""
    rules_ = rules_ or rules_for(day)
    translate = rules.translator()
    return [rules.decide(a, rules_, day, translate) for a in aggregates_set_based(day, rules_)]
