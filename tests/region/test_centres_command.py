"""`pingan centres`, `pingan centres add` and `pingan membership add`."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from pingan.audit.models import AuditEntry
from pingan.core.models import Centre
from pingan.region.models import Membership

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    with translation.override("en"):
        call_command(*args, stdout=out)
    return out.getvalue()


def test_list_as_table_and_json():
    Centre.objects.create(code="C02", name="西区中心")
    Centre.objects.create(code="C01", name="East Centre")
    assert run("centres") == "C01\tEast Centre\nC02\t西区中心\n"
    assert json.loads(run("centres", "--format", "json")) == [
        {"code": "C01", "name": "East Centre"},
        {"code": "C02", "name": "西区中心"},
    ]


def test_add_a_centre_is_audited():
    assert run("centres", "add", "--code", "C09", "--name", "North") == "C09\tNorth\n"
    assert Centre.objects.get(code="C09").name == "North"
    assert AuditEntry.objects.get(action="centre_added").target == "C09"


@pytest.mark.parametrize(
    ("code", "name", "says"),
    [
        ("c 1", "Bad", "capital letters"),
        ("", "No code", "capital letters"),
        ("C01", "  ", "needs a name"),
        ("C01", "Again", "already a centre with code C01"),
    ],
)
def test_a_bad_or_duplicate_centre_writes_nothing(code, name, says):
    Centre.objects.create(code="C01", name="East Centre")
    with pytest.raises(CommandError, match=says):
        run("centres", "add", "--code", code, "--name", name)
    assert list(Centre.objects.values_list("code", flat=True)) == ["C01"]
    assert not AuditEntry.objects.filter(action="centre_added").exists()


def test_membership_add(users):
    Centre.objects.create(code="C01", name="East Centre")
    assert run("membership", "add", "--user", "nurse1", "--centre", "C01") == (
        "nurse1 may work in C01\n"
    )
    assert Membership.objects.get().user == users["nurse"]
    for user, centre, says in [
        ("nurse1", "C01", "already a member"),
        ("nobody", "C01", "No staff member"),
        ("nurse1", "C99", "No centre has code C99"),
    ]:
        with pytest.raises(CommandError, match=says):
            run("membership", "add", "--user", user, "--centre", centre)
    assert Membership.objects.count() == 1
