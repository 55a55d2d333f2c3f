"""The permission matrix's centre dimension, on the demo region: every address of a record
of centre DEMO2 that DEMO2's own staff reach (crawled as the nurse, the clinician and the
manager of DEMO2) is opened by DEMO's staff of the same role, and none of them gets that
record: each answer is 403 or 404, or a page that shows nothing of DEMO2's clients.

The regional roles (the CDC and police officers) see every centre by design and are not
in this matrix (docs/region.md, docs/confidentiality.md); a guest expected at DEMO is
DEMO's to see on the days of their slip (tests/dosing/test_guest_dosing.py)."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import resolve

from crawl import DEMO_INSTANT, browser_for, crawl, demo_site
from pingan.core import clock

CENTRE_ROLES = ("nurse", "clinician", "manager")


def _record_address(path: str) -> bool:
    """An address that names a record: its route takes a parameter."""
    try:
        return bool(resolve(path.split("?")[0]).kwargs)
    except Exception:
        return False


@pytest.fixture(scope="module")
def crossings(django_db_setup, django_db_blocker):
    from pingan.dosing.models import GuestSlip
    from pingan.registry.models import Client
    from pingan.synth.demo_region import EXTRA_CENTRES, login_of

    other = EXTRA_CENTRES[0]
    with django_db_blocker.unblock(), clock.frozen(DEMO_INSTANT):
        with transaction.atomic():
            demo_site()
            guests_here = set(
                GuestSlip.objects.filter(host__code="DEMO", cancelled_at__isnull=True).values_list(
                    "client__code", flat=True
                )
            )
            theirs = [
                (code, alias)
                for code, alias in Client.objects.filter(centre__code=other.code)
                .exclude(code__in=guests_here)
                .values_list("code", "alias")
            ]
            found = []
            for role in CENTRE_ROLES:
                visitor = login_of(role, other)
                pages = crawl({visitor: browser_for(visitor)}, per_pattern=3).pages
                addresses = sorted(
                    {p.path for p in pages if p.status == 200 and _record_address(p.path)}
                )
                ours = browser_for(role)
                for path in addresses:
                    response = ours.get(path)
                    text = response.content.decode("utf-8", "replace")
                    shown = [code for code, alias in theirs if code in text]
                    found.append((role, path, response.status_code, shown))
            transaction.set_rollback(True)
    return found


@pytest.mark.django_db
def test_the_crawl_reaches_records_of_the_other_centre_for_every_role(crossings):
    per_role = {role: sum(1 for r, *_ in crossings if r == role) for role in CENTRE_ROLES}
    assert all(n >= 3 for n in per_role.values()), per_role


@pytest.mark.django_db
def test_no_record_of_another_centre_is_shown_to_this_centres_staff(crossings):
    leaks = [
        f"{role} {path}: {status}, shows {shown[:3]}"
        for role, path, status, shown in crossings
        if status == 200 and shown or status not in (200, 403, 404, 405)
    ]
    assert not leaks, "\n".join(leaks)
