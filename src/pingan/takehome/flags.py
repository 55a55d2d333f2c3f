"""The methadone-negative flag: a take-home client's urine sample negative for both
methadone and EDDP (labs.flags) waits for a clinician on the client page and the
clinician's worklist until the clinician clears it with a note (docs/takehome-standard.md).

The flag is not stored: it is the sample itself, found by the same rule every time, so a
sample entered late, imported or corrected raises it without a hook in the labs app. What
is stored is the clinician's review (`labs.MethadoneNegativeReview`), which clears it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils.translation import gettext as _

from pingan.audit.log import record
from pingan.core.domain import Refusal, acting, require, required_reason
from pingan.dosing.models import Dose, DoseKind
from pingan.labs.flags import METHADONE_ANALYTES, METHADONE_TESTED
from pingan.labs.models import MethadoneNegativeReview, Result, UrineSample
from pingan.registry.models import Client

# A client is a take-home client for a sample when a take-home dose falls in the 30 days
# up to the day the sample was collected: a bottle in that window is a bottle whose
# methadone should show in the urine.
TAKEHOME_WINDOW_DAYS = 30
REVIEW_PERMISSION = "prescribe"


@dataclass(frozen=True)
class Flag:
    sample: UrineSample
    client: Client
    collected_on: date
    last_takehome: date  # the take-home dose that makes it a take-home client's sample


def _methadone_negative_samples():
    """Samples with a negative result for every one of `METHADONE_ANALYTES`."""
    return UrineSample.objects.annotate(
        negatives=Count(
            "results",
            filter=Q(results__analyte__in=METHADONE_ANALYTES, results__result=Result.NEGATIVE),
        )
    ).filter(negatives=METHADONE_TESTED)


def open_flags(client: Client | None = None) -> list[Flag]:
    """Flags not yet cleared, oldest sample first (one client's, or the centre's)."""
    samples = (
        _methadone_negative_samples()
        .filter(~Exists(MethadoneNegativeReview.objects.filter(sample=OuterRef("pk"))))
        .select_related("client")
        .order_by("collected_on", "pk")
    )
    if client is not None:
        samples = samples.filter(client=client)
    samples = list(samples)
    if not samples:
        return []
    first = min(s.collected_on for s in samples) - timedelta(days=TAKEHOME_WINDOW_DAYS)
    last = max(s.collected_on for s in samples)
    takehome: dict[int, list[date]] = {}
    for client_id, day in Dose.objects.filter(
        client_id__in={s.client_id for s in samples},
        kind=DoseKind.TAKEHOME,
        date__range=(first, last),
    ).values_list("client_id", "date"):
        takehome.setdefault(client_id, []).append(day)
    flags = []
    for sample in samples:
        since = sample.collected_on - timedelta(days=TAKEHOME_WINDOW_DAYS)
        days = [d for d in takehome.get(sample.client_id, []) if since <= d <= sample.collected_on]
        if days:
            flags.append(Flag(sample, sample.client, sample.collected_on, max(days)))
    return flags


def clear_flag(sample: UrineSample, note: str | None, by) -> MethadoneNegativeReview:
    """The clinician clears a flag with what they made of it (a note is required)."""
    require(by, REVIEW_PERMISSION)
    text = required_reason(note, limit=1000)
    if not any(f.sample.pk == sample.pk for f in open_flags(sample.client)):
        raise Refusal(_("This sample has no open methadone-negative flag."), code="no_flag")
    try:
        with acting(by), transaction.atomic():
            review = MethadoneNegativeReview.objects.create(sample=sample, note=text, created_by=by)
            record(
                "methadone_flag_clear",
                target=str(sample.external_id),
                client_code=sample.client.code,
                collected_on=sample.collected_on,
                note=text,
            )
    except IntegrityError as exc:  # cleared by someone else a moment ago
        raise Refusal(
            _("This sample has no open methadone-negative flag."), code="no_flag"
        ) from exc
    return review
