"""Actions either of two roles may take (a bed's state, a care event) refuse everyone else,
whatever calls them, and write nothing."""

from datetime import timedelta

import pytest
from inpatient_factories import admission, tariff, unit

from pingan.audit.models import AuditEntry
from pingan.core import clock
from pingan.core.domain import Forbidden
from pingan.inpatient import actions, billing, care
from pingan.inpatient.models import Bed, BedState, CareEvent, LedgerEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def stay(users):
    beds = unit(users["manager"])
    tariff(users["manager"], clock.today() - timedelta(days=30))
    return actions.admit(admission(7), beds["shared"][0], users["clinician"])


def _written() -> tuple:
    return (
        list(Bed.objects.order_by("pk").values_list("state", flat=True)),
        CareEvent.objects.count(),
        LedgerEntry.objects.count(),
        AuditEntry.objects.count(),
    )


@pytest.mark.parametrize("role", ["cdc", "police"])
def test_a_role_with_neither_permission_is_refused_and_nothing_is_written(users, stay, role):
    free = Bed.objects.exclude(pk=stay.bed_id).first()
    before = _written()
    with pytest.raises(Forbidden):
        actions.set_bed_state(free, BedState.RESERVED, users[role])
    with pytest.raises(Forbidden):
        care.record_care(stay, "assessment", users[role], note="seen")
    with pytest.raises(Forbidden):
        billing.take_payment(stay, "100.00", users[role])
    assert _written() == before


def test_either_permission_is_enough(users, stay):
    free = Bed.objects.exclude(pk=stay.bed_id).first()
    actions.set_bed_state(free, BedState.RESERVED, users["nurse"])  # nursing
    actions.set_bed_state(free, BedState.FREE, users["manager"])  # admitting
    care.record_care(stay, "nursing", users["nurse"], note="settled")  # nursing
    care.record_care(stay, "assessment", users["clinician"], note="seen")  # orders
    with pytest.raises(Forbidden):
        care.record_care(stay, "assessment", users["manager"], note="seen")  # admits only
    assert CareEvent.objects.count() == 2
