"""The demo's take-home side: a lockbox for every client on take-home doses, the bottles
of the last weeks in those boxes, today's requests in each state of the approval chain,
and bottles dispensed for the coming days, so tonight's PIN text run has work.

Boxes, requests, decisions, record checks and dispensing go through the take-home and
lockbox actions (eligibility snapshot, audit, the dose and stock line of each bottle).
Only the bottles of days already past are written in bulk, as the record of what the
clients took home before the demo's today.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.audit.log import record
from pingan.audit.signals import capture_paused
from pingan.core.domain import Refusal
from pingan.dosing.models import Dose
from pingan.lockbox.actions import issue_box
from pingan.registry.models import Client, Consent, Identity, Purpose
from pingan.takehome import actions as takehome
from pingan.takehome.models import BottleStatus, RequestStatus, TakeHomeBottle

from .demo_records import ClientState

BOTTLE_HISTORY_DAYS = 30
# How many of today's requests stop at each step of the chain; the rest are dispensed.
LEFT_AT = (
    ("requested", 3),  # awaiting the clinician
    ("refused", 2),  # refused, with the reason the clinician gave
    ("approved", 3),  # awaiting the police record check
    ("check_failed", 1),  # the record check did not pass
    ("ready", 2),  # ready to dispense
)
REFUSALS = (
    "近两周尿检吗啡阳性，复查阴性后再申请",
    "上周漏服两次，先恢复每日到中心服药",
    "药盒定位显示多次不在家，需先面谈",
)


@dataclass
class TakehomeSummary:
    boxes: int = 0
    past_bottles: int = 0
    requests: int = 0
    by_status: dict | None = None
    dispensed_clients: int = 0
    bottles_ahead: int = 0


def _at(day: date, minute: int) -> datetime:
    moment = datetime.combine(day, time(minute // 60, minute % 60))
    return timezone.make_aware(moment, timezone.get_default_timezone())


def build_takehome(
    users: dict, states: list[ClientState], today: date, held: set[int], rng: random.Random
) -> TakehomeSummary:
    summary = TakehomeSummary(by_status={})
    takers = [s for s in states if s.in_treatment and s.on_takehome(today)]
    with transaction.atomic():  # each action a savepoint; one commit for all of them
        boxes = _boxes(takers, users["manager"], today)
        summary.boxes = len(boxes)
        summary.past_bottles = _past_bottles(takers, boxes, today, users["nurse"])
        _requests(users, [s for s in takers if s.client_id not in held], today, rng, summary)
    return summary


def _boxes(takers: list[ClientState], manager, today: date) -> dict[int, object]:
    """A box for each client, issued on their first take-home day (or a week before the
    window of bottles kept)."""
    clients = Client.objects.in_bulk([s.client_id for s in takers])
    boxes = {}
    for state in takers:
        first = next(d for d, _mg, kind in state.doses if kind == "takehome")
        on = min(first, today - timedelta(days=BOTTLE_HISTORY_DAYS + 7))
        boxes[state.client_id] = issue_box(clients[state.client_id], manager, on=on).box
    return boxes


def _past_bottles(takers, boxes, today: date, nurse) -> int:
    """A bottle for each take-home dose of the last weeks: returned empty at the next
    visit; today's, taken home yesterday, is still in the box."""
    first = today - timedelta(days=BOTTLE_HISTORY_DAYS)
    doses = Dose.objects.filter(
        client_id__in=list(boxes), kind="takehome", date__gte=first, date__lte=today
    ).values_list("pk", "client_id", "date", "mg")
    rows = []
    for pk, client_id, day, mg in doses:
        past = day < today
        rows.append(
            TakeHomeBottle(
                client_id=client_id,
                box=boxes[client_id],
                day=day,
                mg=mg,
                dose_id=pk,
                status=BottleStatus.RETURNED if past else BottleStatus.DISPENSED,
                returned_at=_at(day + timedelta(days=1), 8 * 60 + 30) if past else None,
                returned_to=nurse if past else None,
                created_by=nurse,
            )
        )
    with capture_paused():
        TakeHomeBottle.objects.bulk_create(rows, batch_size=1000)
        record("demo_takehome_bottles", bottles=len(rows), since=first.isoformat())
    return len(rows)


def _texts_reach(client_ids: list[int]) -> set[int]:
    """Clients a PIN text can reach: SMS consent and a phone number in the vault."""
    consent = set(
        Consent.objects.filter(
            client_id__in=client_ids, purpose=Purpose.SMS, revoked_on__isnull=True
        ).values_list("client_id", flat=True)
    )
    phones = set(
        Identity.objects.filter(client_id__in=client_ids)
        .exclude(phone="")
        .values_list("client_id", flat=True)
    )
    return consent & phones


def _requests(users, candidates, today, rng, summary) -> None:
    """Today's requests: the ones the record allows go through the chain; a few stop at
    each step so every screen of the chain has work."""
    came_today = set(
        Dose.objects.filter(date=today, kind="clinic").values_list("client_id", flat=True)
    )
    reach = _texts_reach([s.client_id for s in candidates])
    # Those who came in today and can get the PIN by text are dispensed first.
    candidates = sorted(
        candidates,
        key=lambda s: (s.client_id not in came_today, s.client_id not in reach, rng.random()),
    )
    dispensers = [s for s in candidates if s.client_id in came_today]
    others = [s for s in candidates if s.client_id not in came_today]
    stops = [stop for stop, count in LEFT_AT for _n in range(count)]
    clients = Client.objects.in_bulk([s.client_id for s in candidates])
    done: set[int] = set()
    # The stops go first to clients not seen today (they asked by phone), then to the
    # last of today's visitors; everyone else who came today is dispensed.
    for state in others + dispensers[::-1]:
        if not stops:
            break
        if _one_request(clients[state.client_id], stops[-1], today, users, rng, summary, done):
            stops.pop()
    for state in dispensers:
        if state.client_id not in done:
            _one_request(clients[state.client_id], "dispensed", today, users, rng, summary, done)


def _one_request(client, stop: str, today: date, users, rng, summary, done: set[int]) -> bool:
    """One request taken as far as `stop`; False when the record allows no take-home."""
    clinician, nurse, police = users["clinician"], users["nurse"], users["police"]
    try:
        request = takehome.request_takehome(
            client, rng.choice((2, 3, 4, 6)), nurse, reason=_("Works in the day")
        )
    except Refusal:
        return False
    done.add(client.pk)
    summary.requests += 1
    if stop == "refused":
        request = takehome.decide_takehome(request, clinician, False, reason=rng.choice(REFUSALS))
    elif stop != "requested":
        request = takehome.decide_takehome(request, clinician, True)
        if stop != "approved" and request.status == RequestStatus.APPROVED:
            passed = stop != "check_failed"
            reason = "" if passed else "近三个月有涉毒违法记录，请与民警面谈"
            takehome.record_check(request, police, passed, reason)
            request.refresh_from_db()
        if stop == "dispensed" and request.status == RequestStatus.READY:
            days = [today + timedelta(days=n) for n in range(1, request.approved_days + 1)]
            summary.bottles_ahead += len(takehome.dispense_takehome(request, days, nurse))
            summary.dispensed_clients += 1
            request.refresh_from_db()
    summary.by_status[request.status] = summary.by_status.get(request.status, 0) + 1
    return True
