"""Money as people read it (¥ with separators, shares in percent, counts whole), the amount
in capital numerals, and receipts that state the centre, the method and the balance."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.urls import reverse
from inpatient_factories import admission, tariff, unit

from pingan.core import clock
from pingan.core.domain import Refusal
from pingan.core.models import Centre
from pingan.core.numbers import capital_yuan, count, percent, yuan
from pingan.inpatient import actions, billing, queries
from pingan.inpatient.models import LedgerEntry


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0", "零元整"),
        ("0.05", "伍分"),
        ("0.50", "伍角整"),
        ("1", "壹元整"),
        ("10", "壹拾元整"),
        ("15", "壹拾伍元整"),
        ("100.10", "壹佰元壹角整"),
        ("101", "壹佰零壹元整"),
        ("1001.01", "壹仟零壹元零壹分"),
        ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
        ("10005", "壹万零伍元整"),
        ("100000", "壹拾万元整"),
        ("105000", "壹拾万伍仟元整"),
        ("1000000.01", "壹佰万元零壹分"),
        ("100010000", "壹亿零壹万元整"),
        ("123456789.12", "壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元壹角贰分"),
    ],
)
def test_capital_numerals(amount, words):
    assert capital_yuan(Decimal(amount)) == words


@pytest.mark.parametrize("bad", ["-1", "abc", None, "NaN", "1e400"])
def test_capital_numerals_refuse_what_is_no_receipt_amount(bad):
    with pytest.raises(ValueError):
        capital_yuan(bad)


def test_money_percent_and_count_filters():
    assert yuan(Decimal("1234567.5")) == "¥1,234,567.50"
    assert yuan(0) == "¥0.00" and yuan(Decimal("-20")) == "-¥20.00" and yuan(None) == ""
    assert percent(0.23) == "23.0\u00a0%" and percent(0.986) == "98.6\u00a0%"
    assert count(Decimal("1.00")) == "1" and count(12345) == "12,345"
    html = Template(
        "{% load numbers %}{{ a|yuan }}|{{ s|percent }}|{{ n|count }}|{{ a|capital_yuan }}"
    ).render(Context({"a": Decimal("2142.00"), "s": 0.5, "n": 3.0}))
    assert html == "¥2,142.00|50.0\u00a0%|3|贰仟壹佰肆拾贰元整"


@pytest.fixture
def ward(users):
    beds = unit(users["manager"])
    tariff(users["manager"], clock.today() - timedelta(days=10))
    stay = actions.admit(admission(7), beds["shared"][0], users["clinician"])
    return {"beds": beds, "stay": stay}


@pytest.mark.django_db
def test_receipt_states_centre_words_method_and_balance(client_as, ward):
    stay = ward["stay"]
    Centre.objects.update_or_create(code="PA-001", defaults={"name": "平安社区戒毒康复中心"})
    manager = client_as("manager")
    owed = actions_due(stay)
    response = manager.post(
        reverse("inpatient:pay", args=[stay.external_id]),
        {"amount": "1000.00", "method": "wechat", "note": ""},
    )
    assert response.status_code == 302
    entry = LedgerEntry.objects.get(kind="payment")
    assert entry.payment_method == "wechat"
    page = manager.get(reverse("inpatient:receipt", args=[entry.external_id])).content.decode()
    assert "平安社区戒毒康复中心" in page
    assert "¥1,000.00" in page
    assert "壹仟元整" in page
    assert "微信支付" in page  # WeChat Pay, in the default language
    assert yuan(owed - Decimal("1000.00")) in page  # still to pay after this payment


def actions_due(stay) -> Decimal:
    return queries.ledger(stay).due


@pytest.mark.django_db
def test_receipt_balance_is_the_one_after_that_payment(ward, users):
    stay = ward["stay"]
    first = billing.take_payment(stay, "100.00", users["manager"], method="alipay")
    billing.take_payment(stay, "200.00", users["manager"], method="bank_card")
    owed = actions_due(stay) + Decimal("300.00")
    assert billing.balance_after(first).due == owed - Decimal("100.00")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"amount": "100.00", "method": "bitcoin"}, "请选择付款方式"),
        ({"amount": "100.00"}, "请选择付款方式"),
        ({"amount": "-100.00", "method": "cash"}, "金额必须大于零"),
        ({"amount": "0", "method": "cash"}, "金额必须大于零"),
    ],
)
def test_bad_method_or_amount_is_refused_and_nothing_written(client_as, ward, data, message):
    stay = ward["stay"]
    before = LedgerEntry.objects.count()
    response = client_as("manager").post(reverse("inpatient:pay", args=[stay.external_id]), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert LedgerEntry.objects.count() == before


@pytest.mark.django_db
def test_the_action_refuses_an_unknown_method_too(ward, users):
    with pytest.raises(Refusal, match="付款方式|how the money was paid"):
        billing.take_payment(ward["stay"], "10.00", users["manager"], method="IOU")
    assert not LedgerEntry.objects.filter(kind="payment").exists()


@pytest.mark.django_db
def test_monthly_report_reads_occupancy_in_percent_and_counts_whole(client_as, ward):
    page = client_as("manager").get(reverse("inpatient:report")).content.decode()
    rows = re.findall(r'<tr data-measure="(\w+)">(.*?)</tr>', page)
    occupancy, _los, _readmitted, admissions, revenue = (
        re.findall(r'<td class="num">(.*?)</td>', cells)[-1] for _kind, cells in rows
    )
    assert re.fullmatch(r"\d+\.\d\u00a0%", occupancy)  # "23.0 %", not "0.23"
    assert admissions == "1"  # one admission this month, not "1.00"
    assert revenue == "¥0.00"
