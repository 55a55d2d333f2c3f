"""Read models for the registry screens: never any identity field."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext_lazy as _

from .models import Client, Consent, EnrolmentAttempt, Episode, Purpose

STATUS_IN_TREATMENT = "in_treatment"
STATUS_DISCHARGED = "discharged"

# What each consent allows, and what stays undisclosed without it (docs/confidentiality.md).
PURPOSE_EXPLAINED = {
    Purpose.POLICE_RECORD_CHECK: (
        _("The police may check the client's record for a take-home request."),
        _(
            "Not disclosed: no consent. The police record check cannot be done, so take-home "
            "doses under the Ping An standard are not possible."
        ),
    ),
    Purpose.POLICE_REFERRAL_FEEDBACK: (
        _("The referring police may learn whether the client enrolled."),
        _(
            "Not disclosed: no consent. The referring police are not told whether the client "
            "enrolled."
        ),
    ),
    Purpose.SMS: (
        _("The centre may send text messages (e.g. the lockbox code) to the client's phone."),
        _("Not disclosed: no consent. No text messages are sent."),
    ),
    Purpose.BOX_LOCATION: (
        _("The take-home box may report whether it is inside its home area."),
        _("Not disclosed: no consent. The box location is not recorded."),
    ),
    Purpose.RESEARCH: (
        _("The client's de-identified records may be used for research."),
        _("Not disclosed: no consent. The client's records are left out of research."),
    ),
}


def client_list(
    search: str = "", status: str = "", centre_id: int | None = None
) -> QuerySet[Client]:
    """Clients with their open episode's enrolment date (None when discharged); with
    `centre_id`, only that centre's."""
    open_episodes = Episode.objects.filter(client=OuterRef("pk"), discharged_on__isnull=True)
    rows = Client.objects.all() if centre_id is None else Client.objects.filter(centre_id=centre_id)
    rows = rows.annotate(
        in_treatment=Exists(open_episodes),
        open_since=Subquery(open_episodes.values("enrolled_on")[:1]),
    ).defer("photo")
    if search.strip():
        term = search.strip()
        rows = rows.filter(Q(code__icontains=term) | Q(alias__icontains=term))
    if status == STATUS_IN_TREATMENT:
        rows = rows.filter(in_treatment=True)
    elif status == STATUS_DISCHARGED:
        rows = rows.filter(in_treatment=False)
    return rows.order_by("code")


@dataclass(frozen=True)
class ConsentLine:
    purpose: str
    label: str
    explained: str
    withheld: str
    live: Consent | None
    history: list[Consent]


def consent_lines(client: Client) -> list[ConsentLine]:
    """One line per purpose, given or not, so the screen can say what is not disclosed."""
    by_purpose: dict[str, list[Consent]] = {p: [] for p in Purpose.values}
    for consent in client.consents.select_related("created_by", "revoked_by").order_by(
        "-given_on", "-pk"
    ):
        by_purpose.setdefault(consent.purpose, []).append(consent)
    return [
        ConsentLine(
            purpose=purpose,
            label=Purpose(purpose).label,
            explained=PURPOSE_EXPLAINED[purpose][0],
            withheld=PURPOSE_EXPLAINED[purpose][1],
            live=next((c for c in rows if c.revoked_on is None), None),
            history=rows,
        )
        for purpose, rows in by_purpose.items()
    ]


def open_episode(client: Client) -> Episode | None:
    return client.episodes.filter(discharged_on__isnull=True).first()


def days_in_treatment(enrolled_on: date | None, today: date) -> int | None:
    """Day of treatment: days since the latest enrolment, enrolment day = day 0."""
    return None if enrolled_on is None else (today - enrolled_on).days


def attempts_elsewhere(
    centre_id: int | None, client: Client | None = None, limit: int = 10
) -> list[EnrolmentAttempt]:
    """The latest refused enrolments at other centres of this centre's clients (or of one
    client): when, which of our clients, which centre tried. Nothing else is known here."""
    rows = EnrolmentAttempt.objects.select_related("attempted_at", "client").defer("client__photo")
    if client is not None:
        rows = rows.filter(client=client)
    elif centre_id is not None:
        rows = rows.filter(client__centre_id=centre_id)
    else:
        return []
    return list(rows.order_by("-at", "-pk")[:limit])
