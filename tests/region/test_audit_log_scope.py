"""In a region, a centre's manager reads their own centre's audit entries (its chain, and the
sign-ins and centre switches of its staff), never another centre's: those name its
clients."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pingan.audit.log import record
from pingan.core.domain import operator
from pingan.core.models import Centre
from pingan.region.models import Membership
from staff_factory import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def logs(db):
    made = {}
    for code in ("CA", "CB"):
        centre = Centre.objects.create(code=code, name=f"Centre {code}")
        manager = make_user("manager", f"manager-{code}")
        Membership.objects.create(user=manager, centre=centre)
        with operator():
            record("dose_record", client_code=f"{code}-007", centre=centre)
        made[code] = {"centre": centre, "manager": manager}
    with operator():
        record("keys_reindexed")  # the region chain, by the server
    return made


def test_a_centres_manager_reads_only_their_centres_entries(logs, client):
    client.force_login(logs["CB"]["manager"], backend="django.contrib.auth.backends.ModelBackend")
    page = client.get(reverse("audit:list")).content.decode()
    assert 'data-audit-centre="CB"' in page
    assert "CB-007" in page and "CA-007" not in page
    found = client.get(reverse("audit:list"), {"client_code": "CA-007"}).content.decode()
    assert "CA-007" not in found.split("</form>")[-1]


def test_with_one_centre_the_whole_log_is_shown(client):
    centre = Centre.objects.create(code="ONE", name="The centre")
    manager = make_user("manager", "manager-one")
    with operator():
        record("dose_record", client_code="ONE-001", centre=centre)
        record("keys_reindexed")
    client.force_login(manager, backend="django.contrib.auth.backends.ModelBackend")
    page = client.get(reverse("audit:list")).content.decode()
    assert "ONE-001" in page and "data-audit-centre" not in page
