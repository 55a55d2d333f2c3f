"""What one export covers, and the helpers every mapping module shares.

`Scope.records` is the one place a query is narrowed: to the rows that existed when the
export started (each table's highest id then, read for every table at once, so a record
added while the export runs cannot refer to a Patient written before it existed), and to
the exported centre: a client's records through the client's centre (`CENTRE_PATHS`), a
ward's stays through their bed's room. Records that belong to no centre (the partner
organisations) are exported with every centre.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo

from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.crypto import salted_hmac

from pingan.core import clock
from pingan.core.models import Centre

from . import codes

AUDIENCES = ("cdc", "police")

# The path from a model to its centre where it is not `centre` or `client__centre`.
CENTRE_PATHS = {
    "labs.urineresult": "sample__client__centre",
    "inpatient.stay": "bed__room__centre",
}


def _ceilings() -> dict:
    """Each exported table's highest id now: the rows an export reads."""
    return {
        model: model.objects.aggregate(top=Max("pk"))["top"] or 0 for model in snapshot_models()
    }


def centre_path(model) -> str | None:
    """How a model's rows reach their centre; None for a model that has none."""
    label = model._meta.label_lower
    if label in CENTRE_PATHS:
        return CENTRE_PATHS[label]
    names = {f.name for f in model._meta.get_fields()}
    # A client's records go with the client, wherever one of them happened (a dose given
    # at a host centre, an episode at the centre the client left): every reference to the
    # Patient then resolves inside the export.
    if "client" in names:
        return "client__centre"
    return "centre" if "centre" in names else None


@dataclass
class Scope:
    centre: Centre
    since: date | None = None
    audience: str = "cdc"
    now: datetime | None = None
    _practitioners: dict[int, str] = field(default_factory=dict)
    _ceilings: dict | None = None
    # The centre's time zone, read once: per dose, Django's current-zone lookup costs more
    # than the conversion itself.
    tz: tzinfo = field(default_factory=timezone.get_current_timezone)

    def __post_init__(self) -> None:
        if self.now is None:
            self.now = clock.now()

    def share_rows_with(self, other: Scope) -> None:
        """Read the same rows as `other` (its tables' highest ids), for an export of
        several centres taken at one instant."""
        if other._ceilings is None:
            other._ceilings = _ceilings()
        self._ceilings = other._ceilings

    def records(self, queryset: QuerySet) -> QuerySet:
        """The queryset narrowed to the export (see the module's docstring)."""
        if self._ceilings is None:
            self._ceilings = _ceilings()
        queryset = queryset.filter(pk__lte=self._ceilings[queryset.model])
        path = centre_path(queryset.model)
        return queryset if path is None else queryset.filter(**{f"{path}_id": self.centre.pk})

    @property
    def since_instant(self) -> datetime | None:
        """The first instant of `since` in the centre's time zone."""
        if self.since is None:
            return None
        return timezone.make_aware(datetime.combine(self.since, time.min))

    @property
    def organization_id(self) -> str:
        return centre_id(self.centre.code)

    @property
    def organization(self) -> dict:
        return {"reference": f"Organization/{self.organization_id}"}

    def practitioner(self, user_id: int | None) -> str | None:
        """The pseudonymous id of a member of staff (see `practitioner_id`)."""
        if user_id is None:
            return None
        found = self._practitioners.get(user_id)
        if found is None:
            found = self._practitioners[user_id] = practitioner_id(user_id)
        return found


def snapshot_models() -> list:
    """Every table an export reads rows from."""
    from pingan.dosing.models import Dose, Hold, Prescription
    from pingan.inpatient.models import Stay
    from pingan.labs.models import InfectionTest, UrineResult, UrineSample
    from pingan.referrals.models import CareReferral, Partner, PoliceReferral
    from pingan.registry.models import Client, Consent, Episode

    return [
        Client,
        Episode,
        Consent,
        Prescription,
        Dose,
        Hold,
        UrineSample,
        UrineResult,
        InfectionTest,
        Partner,
        CareReferral,
        PoliceReferral,
        Stay,
    ]


def centre_id(code: str) -> str:
    return codes.derived_id("centre", code)


def practitioner_id(user_id: int) -> str:
    """A stable pseudonym for a member of staff: keyed with the installation's secret, so
    no one outside can turn it back into the account it stands for (a staff member's name
    and login never leave; only that the same person did both things)."""
    digest = salted_hmac("pingan.exchange.practitioner", str(user_id)).hexdigest()[:32]
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:]}"


def ref(resource_type: str, resource_id: object) -> dict:
    return {"reference": f"{resource_type}/{resource_id}"}


def day_of(instant: datetime, day: date, tz: tzinfo) -> datetime | date:
    """The instant of an event on `day` (a dose, a dispensing) in the centre's time zone
    `tz` when it falls on that day, else the day alone: the day is the record's own."""
    local = instant.astimezone(tz)
    return local if local.date() == day else day
