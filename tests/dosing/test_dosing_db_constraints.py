"""The database itself, not only the rules, refuses a second dose on a day, a negative stock
balance and an unexplained waste or correction (docs/dosing-rules.md): code that forgets the rules
still cannot write them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from dosing_factories import make_client, past_dose, stocked

from pingan.core import clock
from pingan.dosing.models import Dose, StockEntry

pytestmark = pytest.mark.django_db


def test_a_second_dose_row_for_the_same_day_is_refused_by_the_database(users):
    client = make_client("DB01", users["clinician"], last_dose_days_ago=None)
    day = clock.today() - timedelta(days=1)
    past_dose(client, day, kind="clinic")
    for kind in ("clinic", "takehome"):
        with pytest.raises(IntegrityError), transaction.atomic():
            past_dose(client, day, kind=kind)
    assert Dose.objects.filter(client=client, date=day).count() == 1


@pytest.mark.parametrize(
    "kind,ml,balance,reason",
    [
        ("waste", "-200", "-100", "spilt"),  # the balance would go negative
        ("waste", "-10", "90", ""),  # waste without a reason
        ("correction", "5", "105", ""),  # correction without a reason
        ("correction", "0", "100", "nothing"),  # an empty line
    ],
)
def test_the_ledger_refuses_bad_lines_in_the_database(users, kind, ml, balance, reason):
    product = stocked(100, users["manager"])
    before = list(StockEntry.objects.values_list("pk", "balance_ml"))
    with pytest.raises(IntegrityError), transaction.atomic():
        StockEntry.objects.create(
            product=product,
            at=clock.now(),
            kind=kind,
            ml=Decimal(ml),
            balance_ml=Decimal(balance),
            reason=reason,
        )
    assert list(StockEntry.objects.values_list("pk", "balance_ml")) == before
