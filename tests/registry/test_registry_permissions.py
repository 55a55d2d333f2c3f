"""The registry's actions check their own permission, whatever calls them: enrolment,
consents, discharge, re-enrolment and the photo refused to a role without it write nothing,
not even an audit entry. An identity read refused this way is also a 403 (PermissionDenied)
for a screen that lets it through."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied

from pingan.audit.models import AuditEntry
from pingan.core import clock
from pingan.core.domain import Forbidden
from pingan.registry import actions
from pingan.registry.models import Client, Consent, Episode

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 32


@pytest.fixture
def enrolled(users):
    return actions.enrol_client(
        alias="A",
        sex="M",
        birth_year=1980,
        enrolled_on=clock.today() - timedelta(days=30),
        user=users["clinician"],
    )


def _written() -> tuple:
    return (
        Client.objects.count(),
        list(Episode.objects.order_by("pk").values_list("discharged_on", flat=True)),
        Consent.objects.count(),
        Client.objects.exclude(photo="").count(),
        AuditEntry.objects.count(),
    )


@pytest.mark.parametrize("role", ["nurse", "cdc", "police"])
def test_a_role_that_may_not_enrol_changes_nothing(users, enrolled, role):
    user, today = users[role], clock.today()
    before = _written()
    for act in (
        lambda: actions.enrol_client(alias="B", sex="F", birth_year=1990, user=user),
        lambda: actions.discharge(enrolled, today, "completed", user),
        lambda: actions.re_enrol(enrolled, today, user),
        lambda: actions.set_photo(enrolled, PNG, user),
        lambda: actions.record_consent(enrolled, "sms", today, user),
        lambda: actions.revoke_consent(enrolled, "sms", today, user),
    ):
        with pytest.raises(Forbidden):
            act()
    assert _written() == before


def test_an_identity_read_refused_is_also_a_permission_denied(users, enrolled):
    with pytest.raises(PermissionDenied):
        actions.read_identity(enrolled, users["nurse"])
    assert not AuditEntry.objects.filter(action="identity_read").exists()
