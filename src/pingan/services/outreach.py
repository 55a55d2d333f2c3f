"""Who is slipping away: clients in treatment who have missed `OutreachSettings.missed_days`
days or more in a row on a given date, and the outreach staff record for them (call,
visit, message; outcome; next step), docs/outreach.md.

Missed days are counted back from the day before the given date (the given day itself is
not over, but a dose on it clears the client): the days after the client's last dose in the
episode, or, with no dose yet, from the day of enrolment. Any dose counts — in clinic, a take-home bottle's day, a guest dose at
another centre — so a client at home with bottles is not missing.

Staff may also send a listed client a reminder text (`send_reminder`): only with the
client's `sms` consent, through the outbox, in the client's language, with a fixed text
that names neither the drug nor treatment (`messaging.notices`); it is kept as an
outreach record of kind message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils.translation import gettext as _

from pingan.audit.log import record
from pingan.core import clock
from pingan.core.domain import Refusal, acting, require
from pingan.dosing.models import Dose
from pingan.messaging import notices
from pingan.messaging.models import SmsMessage
from pingan.registry.models import Client, Consent, Episode, Purpose

from .models import Outreach, OutreachKind, OutreachOutcome, OutreachSettings

VIEW_PERMISSION = "view_client"
RECORD_PERMISSION = "record_service"


@dataclass(frozen=True)
class Slipping:
    client: Client
    enrolled_on: date
    last_dose: date | None
    missed: int  # days in a row without a dose, up to the day before the given date
    outreach: list[Outreach]  # newest first
    textable: bool = False  # the client consents to text messages: a reminder may go


def missed_days(on: date, enrolled_on: date, last_dose: date | None) -> int:
    """Days in a row without a dose before `on`: since the last dose, or since enrolment."""
    before = last_dose if last_dose is not None else enrolled_on - timedelta(days=1)
    return max((on - before).days - 1, 0)


def worklist(
    on: date,
    threshold: int | None = None,
    outreach_per_client: int = 3,
    centre_id: int | None = None,
) -> list[Slipping]:
    """Clients in treatment on `on` who missed `threshold` days or more (the centre's
    setting by default), most days missed first, with their latest outreach; with
    `centre_id`, only that centre's clients."""
    threshold = threshold if threshold is not None else OutreachSettings.current().missed_days
    last = (
        Dose.objects.filter(
            client=OuterRef("client"), date__gte=OuterRef("enrolled_on"), date__lte=on
        )
        .order_by("-date")
        .values("date")[:1]
    )
    episodes = (
        Episode.objects.filter(enrolled_on__lt=on)
        .filter(Q(discharged_on__isnull=True) | Q(discharged_on__gt=on))
        .annotate(last_dose=Subquery(last))
        .select_related("client")
    )
    if centre_id is not None:
        episodes = episodes.filter(client__centre_id=centre_id)
    rows = []
    for episode in episodes:
        missed = missed_days(on, episode.enrolled_on, episode.last_dose)
        if missed >= threshold:
            rows.append((episode, missed))
    history: dict[int, list[Outreach]] = {}
    for item in Outreach.objects.filter(client_id__in=[e.client_id for e, _m in rows]).order_by(
        "-on", "-pk"
    ):
        history.setdefault(item.client_id, []).append(item)
    rows.sort(key=lambda r: (-r[1], r[0].client.code))
    textable = set(
        Consent.objects.filter(
            client_id__in=[e.client_id for e, _m in rows],
            purpose=Purpose.SMS,
            revoked_on__isnull=True,
        ).values_list("client_id", flat=True)
    )
    return [
        Slipping(
            e.client,
            e.enrolled_on,
            e.last_dose,
            missed,
            history.get(e.client_id, [])[:outreach_per_client],
            e.client_id in textable,
        )
        for e, missed in rows
    ]


def _day(value: date | str | None) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def record_outreach(
    client: Client,
    on: date | str | None,
    kind: str | None,
    outcome: str | None,
    next_step: str | None,
    by,
    note: str | None = "",
) -> Outreach:
    """One outreach attempt. Every problem is named at once; nothing is written with any."""
    require(by, RECORD_PERMISSION)
    problems = []
    day = _day(on)
    if day is None:
        problems.append(_("Give the date of the outreach (YYYY-MM-DD)."))
    elif day > clock.today():
        problems.append(
            _("The date %(date)s is in the future: record outreach once it is done.")
            % {"date": day.isoformat()}
        )
    if kind not in OutreachKind.values:
        problems.append(_("Choose how the client was contacted: call, visit or message."))
    if outcome not in OutreachOutcome.values:
        problems.append(_("Choose the outcome of the outreach."))
    step = (next_step or "").strip()
    if not step:
        problems.append(_("Write the next step."))
    if problems:
        raise Refusal(problems, code="outreach")
    with acting(by), transaction.atomic():
        item = Outreach.objects.create(
            client=client,
            on=day,
            kind=kind,
            outcome=outcome,
            next_step=step[:200],
            note=(note or "").strip()[:300],
            created_by=by,
        )
        record(
            "outreach_record",
            target=str(item.external_id),
            client_code=client.code,
            on=day,
            kind=kind,
            outcome=outcome,
        )
    return item


def reminder_key(client: Client, day: date) -> str:
    """One reminder per client per day: the outbox keeps one row per key."""
    return f"reminder:{client.external_id.hex}:{day.isoformat()}"


def send_reminder(client: Client, by) -> Outreach:
    """Queue the reminder text to the client and keep it as an outreach record (a message,
    not reached yet). Refused, writing nothing, without the client's `sms` consent or a
    usable phone number, and for a second reminder the same day."""
    require(by, RECORD_PERMISSION)
    why = notices.why_not(client)
    if why is not None:
        raise Refusal(_("No reminder sent: %(why)s") % {"why": _(why)}, code="no_sms")
    today = clock.today()
    key = reminder_key(client, today)
    if SmsMessage.objects.filter(dedupe_key=key).exists():
        raise Refusal(
            _("A reminder already went to %(code)s today.") % {"code": client.code},
            code="already_reminded",
        )
    with acting(by), transaction.atomic():
        message = notices.queue(client, notices.REMINDER, key, today)
        item = Outreach.objects.create(
            client=client,
            on=today,
            kind=OutreachKind.MESSAGE,
            outcome=OutreachOutcome.NOT_REACHED,
            next_step=_("Wait for an answer; call if the client does not come back."),
            note=_("Reminder text message sent through the outbox."),
            created_by=by,
        )
        record(
            "outreach_reminder",
            target=str(item.external_id),
            client_code=client.code,
            message=str(message.external_id),
            # The phone number was read from the vault to address the text.
            phones_read=1,
        )
    return item


def set_missed_days(value: int | str | None, by) -> OutreachSettings:
    """The centre's threshold for the drop-out worklist (days, 1 to 60)."""
    require(by, "manage_staff")
    try:
        days = int(str(value).strip())
    except ValueError:
        days = 0
    if not 1 <= days <= 60:
        raise Refusal(_("Days missed must be a whole number from 1 to 60."), code="missed_days")
    with acting(by), transaction.atomic():
        row = OutreachSettings.current()
        row.missed_days = days
        row.save(update_fields=["missed_days"])
        record("outreach_settings", missed_days=days)
    return row
