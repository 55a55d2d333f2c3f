"""Tariff versions: drafts, their cells, publication (refused while any combination is
missing) and the version in force on a day. A published version never changes; every stay
keeps the version it was priced with."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _

from pingan.audit.log import record
from pingan.core import clock
from pingan.core.domain import Refusal, acting, require

from . import rules
from .models import SeverityBand, TariffRate, TariffVersion


def create_tariff(
    name: str, effective_from: date, user, copy_from: TariffVersion | None = None
) -> TariffVersion:
    """A new draft: a copy of an earlier version, or the documented defaults."""
    require(user, "manage_tariff")
    if not (name or "").strip():
        raise Refusal(_("Give the tariff a name."))
    with acting(user), transaction.atomic():
        tariff = TariffVersion.objects.create(
            name=name.strip(),
            effective_from=effective_from,
            severity_points=copy_from.severity_points if copy_from else rules.DEFAULT_POINTS,
            created_by=user,
        )
        if copy_from is not None:
            rates = {(r.room_type, r.drug): r.day_price for r in copy_from.rates.all()}
            bands = [
                (b.min_score, b.label, b.multiplier, b.surcharge) for b in copy_from.bands.all()
            ]
        else:
            rates, bands = rules.DEFAULT_RATES, rules.DEFAULT_BANDS
        for (room, drug), price in rates.items():
            TariffRate.objects.create(tariff=tariff, room_type=room, drug=drug, day_price=price)
        for min_score, label, mult, sur in bands:
            SeverityBand.objects.create(
                tariff=tariff, min_score=min_score, label=label, multiplier=mult, surcharge=sur
            )
        record("inpatient_tariff_draft", f"inpatient.tariff:{tariff.external_id}")
    return tariff


def _draft(tariff: TariffVersion) -> TariffVersion:
    tariff = TariffVersion.objects.select_for_update().get(pk=tariff.pk)
    if tariff.published_at is not None or tariff.stays.exists():
        raise Refusal(_("A published tariff cannot change; make a new version."), code="frozen")
    return tariff


def set_rate(tariff: TariffVersion, room_type: str, drug: str, price, user) -> None:
    """Set one cell of a draft; an empty price removes the cell."""
    require(user, "manage_tariff")
    if room_type not in rules.ROOM_TYPES or drug not in rules.DRUGS:
        raise Refusal(_("Unknown room type or drug."))
    with acting(user), transaction.atomic():
        tariff = _draft(tariff)
        TariffRate.objects.filter(tariff=tariff, room_type=room_type, drug=drug).delete()
        if str(price or "").strip():
            TariffRate.objects.create(
                tariff=tariff, room_type=room_type, drug=drug, day_price=rules.check_amount(price)
            )
        record(
            "inpatient_tariff_rate",
            f"inpatient.tariff:{tariff.external_id}",
            room_type=room_type,
            drug=drug,
            price=str(price),
        )


def table_of(tariff: TariffVersion) -> rules.TariffTable:
    return rules.TariffTable(
        name=str(tariff),
        rates={(r.room_type, r.drug): r.day_price for r in tariff.rates.all()},
        bands=[
            rules.Band(b.min_score, b.label, b.multiplier, b.surcharge) for b in tariff.bands.all()
        ],
        points=tariff.severity_points,
    )


def publish_tariff(tariff: TariffVersion, user) -> TariffVersion:
    """Publish a complete draft; a missing combination is refused with every gap listed."""
    require(user, "manage_tariff")
    with acting(user), transaction.atomic():
        tariff = _draft(tariff)
        missing = rules.missing_cells(table_of(tariff))
        if missing:
            raise Refusal(
                _("The tariff is incomplete: %(missing)s.") % {"missing": "; ".join(missing)},
                code="incomplete",
            )
        if TariffVersion.objects.filter(
            effective_from=tariff.effective_from, published_at__isnull=False
        ).exists():
            raise Refusal(_("Another published tariff starts on the same day."))
        tariff.published_at = clock.now()
        tariff.save(update_fields=["published_at"])
        record(
            "inpatient_tariff_published",
            f"inpatient.tariff:{tariff.external_id}",
            effective_from=tariff.effective_from,
        )
    return tariff


def tariff_in_force(on: date | None = None) -> TariffVersion | None:
    on = on or clock.today()
    return (
        TariffVersion.objects.filter(published_at__isnull=False, effective_from__lte=on)
        .order_by("-effective_from")
        .first()
    )


def quote_for(
    room_type: str, history: rules.UseHistory, days, on: date | None = None
) -> rules.Quote:
    tariff = tariff_in_force(on)
    if tariff is None:
        raise Refusal(_("No tariff is in force; the manager must publish one."), code="tariff")
    return rules.quote(table_of(tariff), room_type, history, days)
