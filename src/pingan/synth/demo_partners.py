"""The demo's work with the police and with care partners, and its services: police
referrals over the year (some filed by the demo's own police login, so that officer has a
list to look at), care referrals for HIV, hepatitis C and TB (a few overdue), counselling
and psycho-education sessions with attendance, and naloxone kits.

Everything goes through the apps' actions — a few hundred calls — so every row has its
audit entry and passes the same checks as a form would: dates in range, outcomes only on
open referrals, "enrolled" only with a client linked.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from pingan.accounts.actions import create_staff
from pingan.labs.models import InfectionTest
from pingan.referrals import actions as referrals
from pingan.referrals.models import CareKind, CareOutcome, ContactMethod, ReferralStatus
from pingan.registry.actions import live_consents, record_consent
from pingan.registry.models import Client, Identity, Purpose
from pingan.services import actions as services
from pingan.services.models import KitUse, ServiceKind

from .demo_records import ClientState
from .identity import identity

DEMO_STATION = "红塔公安分局玉兴派出所"
OTHER_OFFICERS = (
    ("officer-fenghuang", "红塔公安分局凤凰路派出所"),
    ("officer-jiangchuan", "江川公安分局大街派出所"),
)
PARTNERS = (
    ("玉溪市人民医院感染科", CareKind.ART, "艾滋病抗病毒治疗门诊 0877-2012345"),
    ("玉溪市疾控中心丙肝门诊", CareKind.HCV, "丙肝治疗随访 0877-2023456"),
    ("红塔区结核病防治所", CareKind.TB, "结核病门诊 0877-2034567"),
    ("玉溪市第二人民医院精神科", CareKind.PSYCHIATRY, "精神科门诊 0877-2045678"),
    ("红塔区阳光社工服务站", CareKind.SOCIAL, "社工 0877-2056789"),
)
REASONS = (
    "本人自愿戒毒，需要美沙酮维持治疗",
    "尿检吗啡阳性，建议转介社区药物维持治疗",
    "家属求助，本人同意到中心咨询",
    "社区戒毒人员，建议参加维持治疗",
)
PSYCHOEDUCATION_TOPICS = (
    "复吸的预防",
    "美沙酮与常见药物的相互作用",
    "乙肝丙肝与艾滋病的预防",
    "家庭支持与沟通",
    "纳洛酮与过量的急救",
)


@dataclass
class PartnersSummary:
    police_referrals: int = 0
    by_demo_officer: int = 0
    care_referrals: int = 0
    overdue_care: int = 0
    sessions: int = 0
    attendances: int = 0
    naloxone_kits: int = 0


def _in_treatment(state: ClientState, day: date) -> bool:
    episode = state.episode
    return episode.enrolled_on <= day and (
        episode.discharged_on is None or episode.discharged_on > day
    )


def build_partners(
    users: dict, states: list[ClientState], today: date, days: int, rng: random.Random
) -> PartnersSummary:
    summary = PartnersSummary()
    start = today - timedelta(days=days - 1)
    # One outer transaction: each action keeps its own (now a savepoint) and its audit
    # entry, but the database commits once instead of a thousand times.
    with transaction.atomic():
        _police(users, states, today, start, rng, summary)
        _care(users["manager"], states, today, start, rng, summary)
        _services(users, states, today, start, rng, summary)
    return summary


# Police referrals ---------------------------------------------------------------------------


def _officers(users: dict) -> list[tuple[object, str]]:
    """The demo's police login and two colleagues at other stations (no password anyone
    knows: they exist so the demo officer's list is visibly only their own)."""
    officers = [(users["police"], DEMO_STATION)]
    for username, station in OTHER_OFFICERS:
        officers.append(
            (create_staff(username, secrets.token_urlsafe(24), "police", "zh-hans"), station)
        )
    return officers


def _person(rng: random.Random, client_id: int | None, names: dict) -> tuple[str, str]:
    """Name and phone as the officer writes them down; for a person who became a client,
    the identity the centre holds (when they gave one)."""
    if client_id in names:
        return names[client_id]
    sex = "F" if rng.random() < 0.1 else "M"
    name, _id, phone, _address = identity(rng, sex, rng.randint(1965, 2002))
    return name, phone or f"+86139 0000 {rng.randrange(10000):04d}"


def _police(users, states, today, start, rng, summary) -> None:
    manager = users["manager"]
    officers = _officers(users)
    # New enrolments of the year: about a third came through a police referral.
    newcomers = [s for s in states if s.episode.enrolled_on >= start + timedelta(days=20)]
    referred = [s for s in newcomers if rng.random() < 0.35]
    names = {
        i.client_id: (i.name, i.phone)
        for i in Identity.objects.filter(client_id__in=[s.client_id for s in referred])
        if i.name and i.phone
    }
    months = max(1, (today - start).days // 30)
    plans: list[tuple[date, str, ClientState | None]] = []
    for state in referred:
        plans.append(
            (state.episode.enrolled_on - timedelta(days=rng.randint(1, 15)), "enrolled", state)
        )
    for _n in range(months * 2):
        outcome = rng.choice(("declined", "unreachable"))
        plans.append(
            (start + timedelta(days=rng.randrange((today - start).days - 20)), outcome, None)
        )
    for n in range(4):
        plans.append(
            (today - timedelta(days=rng.randint(1, 18)), "inbox" if n % 2 else "contacted", None)
        )
    # One former client who declined to come back and had allowed the feedback: the
    # officer sees "not enrolled" for that one.
    former = [
        s
        for s in states
        if not s.in_treatment and s.episode.discharged_on < today - timedelta(days=40)
    ]
    if former:
        gone = rng.choice(former)
        plans.append(
            (gone.episode.discharged_on + timedelta(days=rng.randint(5, 30)), "declined", gone)
        )
    plans.sort(key=lambda p: p[0])
    filed, shown_enrolled = [], 0
    for number, (on, outcome, state) in enumerate(plans):
        on = max(start, min(on, today))
        # The demo officer's list always shows both answers: the first enrolments go to
        # them, with the client's consent to feedback.
        shown = outcome == "enrolled" and shown_enrolled < 2
        shown_enrolled += shown
        if shown or number % 5 in (0, 2):
            officer, station = officers[0]
        else:
            officer, station = rng.choice(officers)
        name, phone = _person(rng, state.client_id if state else None, names)
        referral = referrals.file_referral(
            officer=officer,
            referred_on=on,
            station=station,
            person_name=name,
            person_contact=phone,
            reason=rng.choice(REASONS),
        )
        filed.append(referral)
        summary.police_referrals += 1
        summary.by_demo_officer += officer is users["police"]
        _work(referral, outcome, state, on, today, manager, rng, consent=shown)
    # The same person referred twice within a fortnight by two officers: one pair already
    # merged by the centre, one waiting in the inbox with its duplicate flag.
    open_ones = [r for r in filed if r.status == ReferralStatus.INBOX]
    if open_ones:
        first = open_ones[-1]
        referrals.file_referral(
            officer=officers[-1][0],
            referred_on=min(today, first.referred_on + timedelta(days=2)),
            station=officers[-1][1],
            person_name=first.person_name,
            person_contact=first.person_contact,
            reason=rng.choice(REASONS),
        )
        summary.police_referrals += 1
    closed = [r for r in filed if r.status == ReferralStatus.UNREACHABLE]
    if closed:
        target = closed[0]
        dup = referrals.file_referral(
            officer=officers[0][0],
            referred_on=min(today, target.referred_on + timedelta(days=3)),
            station=officers[0][1],
            person_name=target.person_name,
            person_contact=target.person_contact,
            reason=rng.choice(REASONS),
        )
        referrals.merge(dup, target, manager)
        summary.police_referrals += 1
        summary.by_demo_officer += 1


def _work(
    referral, outcome: str, state, on: date, today: date, manager, rng, consent: bool = False
) -> None:
    """What the centre did with the referral: calls, a visit, an outcome."""
    if outcome == "inbox":
        return
    contact_on = min(today, on + timedelta(days=rng.randint(0, 3)))
    reached = outcome in ("enrolled", "declined")
    referrals.record_contact(
        referral,
        on=contact_on,
        method=ContactMethod.PHONE,
        reached=reached,
        note="" if reached else _("No answer"),
        user=manager,
    )
    if outcome == "contacted":
        return
    if outcome == "unreachable":
        second = min(today, contact_on + timedelta(days=rng.randint(2, 6)))
        referrals.record_contact(
            referral,
            on=second,
            method=ContactMethod.VISIT,
            reached=False,
            note=_("Not at the address given"),
            user=manager,
        )
        referrals.record_outcome(
            referral, outcome=ReferralStatus.UNREACHABLE, on=second, user=manager
        )
        return
    if state is not None:
        client = Client.objects.get(pk=state.client_id)
        referrals.link_client(referral, client, manager)
        if (consent or outcome == "declined" or rng.random() < 0.6) and (
            Purpose.POLICE_REFERRAL_FEEDBACK not in live_consents(client)
        ):
            given = max(on, state.episode.enrolled_on) if outcome == "enrolled" else contact_on
            record_consent(client, Purpose.POLICE_REFERRAL_FEEDBACK, min(given, today), manager)
    when = max(on, state.episode.enrolled_on) if outcome == "enrolled" else contact_on
    referrals.record_outcome(referral, outcome=outcome, on=min(when, today), user=manager)


# Care referrals ------------------------------------------------------------------------------


def _care(manager, states, today, start, rng, summary) -> None:
    partners = {
        kind: referrals.add_partner(name=name, kind=kind, contact=contact, user=manager)
        for name, kind, contact in PARTNERS
    }
    by_id = {s.client_id: s for s in states}
    first_positive: dict[tuple[int, str], date] = {}
    for client_id, test, day in (
        InfectionTest.objects.filter(result="positive")
        .order_by("tested_on")
        .values_list("client_id", "test", "tested_on")
    ):
        first_positive.setdefault((client_id, test), day)
    share = {"hiv": (CareKind.ART, 1.0), "hcv": (CareKind.HCV, 0.3), "tb": (CareKind.TB, 1.0)}
    for (client_id, test), positive_on in sorted(first_positive.items()):
        state = by_id.get(client_id)
        kind, chance = share.get(test, (None, 0))
        if kind is None or state is None or rng.random() >= chance:
            continue
        sent = max(
            start, positive_on + timedelta(days=rng.randint(2, 10)), state.episode.enrolled_on
        )
        if sent > today:
            continue
        _care_referral(state, kind, partners[kind], sent, today, manager, rng, summary)
    # Psychiatric and social care for a few clients in treatment.
    current = [s for s in states if s.in_treatment]
    for state in rng.sample(current, min(len(current), max(2, len(current) // 25))):
        kind = rng.choice((CareKind.PSYCHIATRY, CareKind.SOCIAL))
        sent = max(start, today - timedelta(days=rng.randint(5, 120)), state.episode.enrolled_on)
        _care_referral(state, kind, partners[kind], sent, today, manager, rng, summary)


def _care_referral(state, kind, partner, sent: date, today: date, manager, rng, summary) -> None:
    client = Client.objects.get(pk=state.client_id)
    referral = referrals.send_care_referral(
        client, kind=kind, partner=partner, sent_on=sent, notes="", user=manager
    )
    summary.care_referrals += 1
    # Most referrals reach an answer within the due interval; recent ones and a few older
    # ones are still open, and those past their due date are on the overdue list.
    if referral.due_by >= today or rng.random() < 0.15:
        summary.overdue_care += referral.due_by < today
        return
    outcome = rng.choices(
        (CareOutcome.LINKED, CareOutcome.DECLINED, CareOutcome.NOT_ELIGIBLE, CareOutcome.LOST),
        weights=(75, 10, 5, 10) if kind == CareKind.ART else (60, 15, 10, 15),
    )[0]
    done = min(today, sent + timedelta(days=rng.randint(2, (referral.due_by - sent).days + 5)))
    referrals.complete_care_referral(referral, completed_on=done, outcome=outcome, user=manager)


# Services -----------------------------------------------------------------------------------


def _services(users, states, today, start, rng, summary) -> None:
    clinician, nurse, manager = users["clinician"], users["nurse"], users["manager"]
    for offset in range((today - start).days):
        day = start + timedelta(days=offset)
        present = [s for s in states if _in_treatment(s, day) and s.doses]
        if not present:
            continue
        if day.weekday() == 2:  # Wednesday: psycho-education group
            group = rng.sample(present, min(len(present), rng.randint(6, 16)))
            _session(
                ServiceKind.PSYCHOEDUCATION,
                day,
                nurse,
                rng.choice(PSYCHOEDUCATION_TOPICS),
                group,
                summary,
            )
        if day.weekday() == 4 and (offset // 7) % 2 == 0:  # every other Friday
            group = rng.sample(present, min(len(present), rng.randint(4, 10)))
            _session(ServiceKind.COUNSELLING, day, clinician, "团体心理辅导", group, summary)
        if day.weekday() < 5 and rng.random() < 0.45:  # one-to-one counselling
            _session(ServiceKind.COUNSELLING, day, clinician, "", [rng.choice(present)], summary)
        if rng.random() < 0.15:
            client = Client.objects.get(pk=rng.choice(present).client_id)
            kit = services.hand_out_naloxone(client, handed_on=day, user=manager)
            summary.naloxone_kits += 1
            if kit.follow_up_on < today and rng.random() < 0.7:
                used = KitUse.YES if rng.random() < 0.1 else KitUse.NO
                note = _("Used on a friend; ambulance called") if used == KitUse.YES else ""
                services.record_kit_follow_up(kit, used=used, note=note, user=manager)


def _session(kind: str, day: date, staff, topic: str, group: list[ClientState], summary) -> None:
    services.record_session(
        kind=kind,
        on=day,
        staff=staff,
        topic=topic,
        group=len(group) > 1 or kind == ServiceKind.PSYCHOEDUCATION,
        codes=[s.code for s in group],
        user=staff,
    )
    summary.sessions += 1
    summary.attendances += len(group)
