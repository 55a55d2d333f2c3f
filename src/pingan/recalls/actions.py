"""State changes of the recalls: the weekly draw, a recall by hand, a client phoned, a return
counted, and overdue recalls closed as missed. One transaction each, audited
(docs/recalls.md).

A short return and a missed recall both suspend take-home until a clinician reviews it: a
take-home suspension (the one `takehome` keeps, read by every take-home step and by the
dispense re-check) whose reason names the recall. Counting a return is the nurse's work
and the overdue run is the server's, neither of them a clinician's decision, so the
suspension is written here rather than through the clinician's `suspend_takehome`; it is
lifted the usual way, by a clinician with a note."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.audit.log import record
from pingan.core import clock
from pingan.core.domain import Refusal, acting, require
from pingan.core.models import Centre
from pingan.messaging import notices
from pingan.registry.models import Client
from pingan.takehome import suspensions
from pingan.takehome.models import Suspension

from . import queries, rules
from .models import Recall, RecallDraw, RecallStatus

DRAW_PERMISSIONS = ("decide_takehome", "manage_messaging")
RETURN_PERMISSION = "dispense_takehome"
# The review of a suspension a recall opened, in days.
REVIEW_WITHIN_DAYS = 7
# The account named as the one who suspended when the overdue run (a timer, no person)
# closes a recall: it cannot sign in and holds no role.
SYSTEM_USERNAME = "pingan-recalls"


@dataclass
class DrawOutcome:
    draw: RecallDraw
    recalls: list[Recall] = field(default_factory=list)
    texted: list[str] = field(default_factory=list)  # client codes
    to_phone: list[tuple[str, str]] = field(default_factory=list)  # (code, why, translated)


def _recall(client: Client, draw: RecallDraw | None, by) -> tuple[Recall, str | None]:
    """A new open recall for the client, with its text queued when the client may be
    texted; the reason (untranslated) when not."""
    now = clock.now()
    recall = Recall.objects.create(draw=draw, client=client, made_at=now, created_by=by)
    why = notices.why_not(client)
    if why is None:
        recall.message = notices.queue(client, notices.RECALL, f"recall:{recall.external_id.hex}")
        recall.save(update_fields=["message"])
    return recall, why


def draw_week(week: str | None, by=None, centre: Centre | None = None) -> DrawOutcome:
    """This week's draw at `centre` (the installation's when not given): a share of its
    clients holding take-home bottles, each recalled (a text, or on the list to phone).
    Refused for another week than the current one and for a week the centre already drew
    (the database keeps one draw per centre and week)."""
    require(by, *DRAW_PERMISSIONS, any_of=True)
    centre = centre or Centre.current()
    current = rules.iso_week(clock.today())
    week = rules.parse_week(week) if week else current
    if week != current:
        raise Refusal(
            _("Only the current week (%(week)s) can be drawn.") % {"week": current}, code="week"
        )
    _refuse_if_drawn(week, centre)
    eligible = queries.holding_takehome(centre_id=centre.pk)
    share = queries.share()
    seed = secrets.token_hex(8)
    codes = rules.draw(week, seed, [c.code for c in eligible], share)
    by_code = {c.code: c for c in eligible}
    try:
        with acting(by), transaction.atomic():
            draw = RecallDraw.objects.create(
                centre=centre,
                week=week,
                seed=seed,
                share=share,
                eligible=[c.code for c in eligible],
                drawn=codes,
                drawn_at=clock.now(),
                created_by=by,
            )
            outcome = DrawOutcome(draw)
            for code in codes:
                recall, why = _recall(by_code[code], draw, by)
                outcome.recalls.append(recall)
                if why is None:
                    outcome.texted.append(code)
                else:
                    outcome.to_phone.append((code, _(why)))
            record(
                "recall_draw",
                target=str(draw.external_id),
                centre=centre.code,
                week=week,
                seed=seed,
                share=str(share),
                eligible=len(eligible),
                drawn=codes,
                texted=outcome.texted,
                # The texted clients' phone numbers were read from the vault.
                phones_read=len(outcome.texted),
            )
    except IntegrityError:
        _refuse_if_drawn(week, centre)  # drawn by a concurrent run a moment ago
        raise
    return outcome


def _refuse_if_drawn(week: str, centre: Centre) -> None:
    found = RecallDraw.objects.filter(week=week, centre=centre).first()
    if found is not None:
        raise Refusal(
            _("The week %(week)s was already drawn on %(day)s: %(n)d client(s) recalled.")
            % {
                "week": week,
                "day": timezone.localdate(found.drawn_at).isoformat(),
                "n": len(found.drawn),
            },
            code="already_drawn",
        )


def recall_client(client: Client, by) -> Recall:
    """A recall outside the draw (the clinician's suspicion): only for a client holding
    take-home bottles for the days ahead, and not while one is open."""
    require(by, "decide_takehome")
    if not queries.holds_takehome(client):
        raise Refusal(
            _("%(code)s holds no take-home bottles for the days ahead: nothing to recall.")
            % {"code": client.code},
            code="no_takehome",
        )
    try:
        with acting(by), transaction.atomic():
            _refuse_if_open(client)
            recall, why = _recall(client, None, by)
            record(
                "recall_make",
                target=str(recall.external_id),
                client_code=client.code,
                texted=why is None,
                phones_read=int(why is None),
            )
    except IntegrityError:
        _refuse_if_open(client)
        raise
    return recall


def _refuse_if_open(client: Client) -> None:
    if Recall.objects.filter(client=client, status=RecallStatus.OPEN).exists():
        raise Refusal(
            _("%(code)s already has a recall awaiting the return.") % {"code": client.code},
            code="open",
        )


def _locked(recall: Recall) -> Recall:
    return Recall.objects.select_for_update().select_related("client").get(pk=recall.pk)


def mark_phoned(recall: Recall, by) -> Recall:
    """Staff phoned a client who was not texted: the 24 hours run from now."""
    require(by, RETURN_PERMISSION, "decide_takehome", any_of=True)
    with acting(by), transaction.atomic():
        recall = _locked(recall)
        if recall.status != RecallStatus.OPEN:
            raise Refusal(_("This recall is already closed."), code="closed")
        if recall.phoned_at is not None:
            raise Refusal(_("The client was already phoned for this recall."), code="phoned")
        recall.phoned_at, recall.phoned_by = clock.now(), by
        recall.save(update_fields=["phoned_at", "phoned_by"])
        record("recall_phoned", target=str(recall.external_id), client_code=recall.client.code)
    return recall


def record_return(recall: Recall, bottles, ml, by, note: str | None = "") -> Recall:
    """The bottles and the volume the client brought back. More bottles than are out is
    refused (a counting slip), as is a volume that is not a number of millilitres; a
    return short of the days ahead is an incident and suspends take-home."""
    require(by, RETURN_PERMISSION)
    problems = []
    try:
        count = rules.bottles_given(bottles)
    except Refusal as refusal:
        problems.append(refusal.message)
    try:
        volume = rules.volume_given(ml)
    except Refusal as refusal:
        problems.append(refusal.message)
    if problems:
        raise Refusal(problems, code="return")
    note = (note or "").strip()[:300]
    with acting(by), transaction.atomic():
        recall = _locked(recall)
        if recall.status != RecallStatus.OPEN:
            raise Refusal(
                _("This recall is already closed (%(status)s): nothing recorded.")
                % {"status": recall.get_status_display()},
                code="closed",
            )
        out = queries.expected(recall.client)
        if count > out.outstanding:
            raise Refusal(
                _(
                    "%(got)d bottles counted, but only %(out)d are out with %(code)s: "
                    "count again. Nothing was recorded."
                )
                % {"got": count, "out": out.outstanding, "code": recall.client.code},
                code="too_many",
                field="bottles",
            )
        judged = rules.judge_return(out.ahead, out.ahead_ml, count, volume)
        recall.expected_bottles, recall.expected_ml = out.ahead, out.ahead_ml
        recall.bottles_returned, recall.ml_returned = count, volume
        recall.status = RecallStatus.INCIDENT if judged.short else RecallStatus.RETURNED
        recall.closed_at, recall.closed_by = clock.now(), by
        recall.note = note
        if judged.short:
            reason = _("Recall of %(day)s returned short: %(why)s") % {
                "day": timezone.localdate(recall.made_at).isoformat(),
                "why": " ".join(judged.reasons),
            }
            recall.suspension = _suspend(recall, reason, by)
        recall.save()
        record(
            "recall_return",
            target=str(recall.external_id),
            client_code=recall.client.code,
            bottles=count,
            ml=str(volume),
            expected_bottles=out.ahead,
            expected_ml=str(out.ahead_ml),
            outcome=recall.status,
        )
    return recall


def close_overdue(by=None) -> list[Recall]:
    """Every open recall whose 24 hours are over becomes missed and suspends take-home.
    Run again, it finds nothing more to close."""
    require(by, *DRAW_PERMISSIONS, any_of=True)
    closed = []
    with acting(by), transaction.atomic():
        for recall in queries.overdue().select_for_update(of=("self",)):
            told = queries.notified_at(recall)
            recall.status = RecallStatus.MISSED
            recall.closed_at, recall.closed_by = clock.now(), by
            reason = _("Recall of %(day)s not answered within 24 hours (told %(told)s)") % {
                "day": timezone.localdate(recall.made_at).isoformat(),
                "told": timezone.localtime(told).strftime("%Y-%m-%d %H:%M"),
            }
            recall.suspension = _suspend(recall, reason, by)
            recall.save(update_fields=["status", "closed_at", "closed_by", "suspension"])
            record(
                "recall_missed",
                target=str(recall.external_id),
                client_code=recall.client.code,
                told=told.isoformat() if told else "",
            )
            closed.append(recall)
    return closed


def _system_user():
    user, created = get_user_model().objects.get_or_create(
        username=SYSTEM_USERNAME, defaults={"is_active": False}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _suspend(recall: Recall, reason: str, by) -> Suspension:
    """Take-home suspended for the recall's client, or the suspension already standing
    (one per client; it is not replaced)."""
    standing = suspensions.standing(recall.client)
    if standing is not None:
        return standing
    # The screens put the reason inside a sentence of their own: no full stop of its own.
    reason = suspensions.given_reason(reason[: suspensions.REASON_LIMIT].rstrip("."))
    review_on = clock.today() + timedelta(days=REVIEW_WITHIN_DAYS)
    who = by if by is not None and by.is_authenticated else _system_user()
    suspension = Suspension.objects.create(
        client=recall.client,
        reason=reason,
        review_on=review_on,
        suspended_by=who,
        suspended_at=clock.now(),
        created_by=by,
    )
    record(
        "takehome_suspend",
        target=str(suspension.external_id),
        client_code=recall.client.code,
        reason=reason,
        review_on=review_on,
        recall=str(recall.external_id),
    )
    return suspension
