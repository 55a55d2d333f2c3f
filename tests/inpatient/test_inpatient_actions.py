"""Admission, tariff versions, money, taper and step-down through the actions."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import translation
from inpatient_factories import admission, history, tariff, unit

from pingan.audit.log import verify
from pingan.audit.models import AuditEntry
from pingan.core import clock
from pingan.core.domain import Refusal
from pingan.inpatient import actions, billing, care, queries
from pingan.inpatient.models import (
    BedState,
    InpatientDose,
    InpatientPerson,
    LedgerEntry,
    Stay,
    TariffRate,
)
from pingan.registry.actions import IdentityInput
from pingan.registry.models import Client, Episode, Identity

pytestmark = pytest.mark.django_db


@pytest.fixture
def beds(users):
    return unit(users["manager"])


@pytest.fixture
def tariff_now(users):
    return tariff(users["manager"], clock.today() - timedelta(days=30))


def counts() -> tuple[int, ...]:
    return (
        Stay.objects.count(),
        InpatientPerson.objects.count(),
        LedgerEntry.objects.count(),
        AuditEntry.objects.count(),
    )


def test_admission_freezes_the_day_price_and_charges_the_planned_days(users, beds, tariff_now):
    stay = actions.admit(
        admission(7, years=5, amount="medium"), beds["shared"][0], users["clinician"]
    )
    assert stay.tariff == tariff_now
    assert (stay.severity_score, stay.price_per_day) == (3, Decimal("306.00"))
    assert len(stay.person.return_card_code) == 8
    book = queries.ledger(stay)
    assert (book.charges, book.due) == (Decimal("2142.00"), Decimal("2142.00"))
    assert not Client.objects.exists()  # anonymous: nothing in the registry
    assert verify() == []


def test_a_new_tariff_version_prices_new_stays_and_leaves_old_ones(users, beds, tariff_now):
    first = actions.admit(admission(7), beds["shared"][0], users["clinician"])
    draft = actions.create_tariff("2026b", clock.today(), users["manager"], copy_from=tariff_now)
    actions.set_rate(draft, "shared", "heroin", "280.00", users["manager"])
    actions.publish_tariff(draft, users["manager"])
    second = actions.admit(admission(7), beds["shared"][1], users["clinician"])
    first.refresh_from_db()
    assert (first.tariff, first.price_per_day) == (tariff_now, Decimal("260.00"))
    assert (second.tariff, second.price_per_day) == (draft, Decimal("280.00"))
    past = actions.quote_for("shared", history(), 7, on=clock.today() - timedelta(days=1))
    assert past.day_price == Decimal("260.00")
    with pytest.raises(Refusal):  # published and used: frozen
        actions.set_rate(tariff_now, "shared", "heroin", "1.00", users["manager"])


def test_a_tariff_missing_a_combination_is_refused_with_the_gaps(users):
    draft = actions.create_tariff("gap", clock.today(), users["manager"])
    actions.set_rate(draft, "private", "other", "", users["manager"])
    actions.set_rate(draft, "shared", "methamphetamine", "", users["manager"])
    with translation.override("en"), pytest.raises(Refusal) as refused:
        actions.publish_tariff(draft, users["manager"])
    assert "Private room" in refused.value.message
    assert "Methamphetamine" in refused.value.message
    draft.refresh_from_db()
    assert draft.published_at is None
    assert TariffRate.objects.filter(tariff=draft).count() == 6


def test_refund_on_early_discharge_to_the_fen(users, beds, tariff_now):
    at = clock.now() - timedelta(days=3)
    stay = actions.admit(
        admission(7, years=5, amount="medium"), beds["shared"][0], users["clinician"], at=at
    )
    receipt = billing.take_payment(stay, "2142.00", users["manager"])
    assert receipt.receipt_number.endswith("-000001")
    settlement = actions.discharge(stay, users["clinician"])
    assert (settlement.days_used, settlement.unused_days) == (3, 4)
    assert settlement.credit == Decimal("1224.00")
    assert queries.ledger(stay).credit == Decimal("1224.00")
    with pytest.raises(Refusal) as refused:
        billing.refund(stay, "1224.01", users["manager"])
    assert refused.value.code == "overrefund"
    back = billing.refund(stay, "1224.00", users["manager"])
    assert back.receipt_number.endswith("-000002")
    book = queries.ledger(stay)
    assert (book.owed, book.paid, book.balance) == (
        Decimal("918.00"),
        Decimal("918.00"),
        Decimal("0.00"),
    )
    stay.bed.refresh_from_db()
    assert stay.bed.state == BedState.CLEANING


def test_extension_charges_more_days_at_the_frozen_price(users, beds, tariff_now):
    stay = actions.admit(admission(7), beds["private"][0], users["clinician"])
    billing.take_payment(stay, "2660.00", users["manager"])
    billing.extend(stay, 3, users["manager"])
    stay.refresh_from_db()
    assert stay.planned_days == 10
    assert queries.ledger(stay).due == Decimal("1140.00")
    billing.take_payment(stay, "1140.00", users["manager"])
    assert queries.ledger(stay).balance == Decimal("0.00")


def test_overpayment_is_refused_and_nothing_written(users, beds, tariff_now):
    stay = actions.admit(admission(2), beds["shared"][0], users["clinician"])
    before = counts()
    with pytest.raises(Refusal) as refused:
        billing.take_payment(stay, "520.01", users["manager"])
    assert "520.00" in refused.value.message
    assert counts() == before


@pytest.mark.parametrize(
    "bad",
    [
        {"days": 0},
        {"days": -2},
        {"alias": ""},
        {"birth_year": 1850},
        {"card": "NOSUCHCD"},
    ],
)
def test_bad_admissions_are_refused_and_nothing_written(users, beds, tariff_now, bad):
    data = admission(bad.get("days", 7), card=bad.get("card", ""))
    data.alias = bad.get("alias", data.alias)
    data.birth_year = bad.get("birth_year", data.birth_year)
    before = counts()
    with pytest.raises(Refusal):
        actions.admit(data, beds["shared"][0], users["clinician"])
    assert counts() == before


def test_double_booking_and_discharge_before_admission_are_refused(users, beds, tariff_now):
    bed = beds["shared"][0]
    stay = actions.admit(admission(7), bed, users["clinician"])
    before = counts()
    with pytest.raises(Refusal) as refused:
        actions.admit(admission(7), bed, users["clinician"])
    assert refused.value.code == "bed_taken"
    with pytest.raises(Refusal) as refused:
        actions.discharge(stay, users["clinician"], at=stay.admitted_at - timedelta(hours=1))
    assert refused.value.code == "discharge_before"
    assert counts() == before
    assert Stay.objects.get(pk=stay.pk).is_open


def test_no_tariff_means_no_admission(users, beds):
    with pytest.raises(Refusal) as refused:
        actions.admit(admission(7), beds["shared"][0], users["clinician"])
    assert refused.value.code == "tariff"


def test_readmission_is_linked_by_return_card_code_without_identity(users, beds, tariff_now):
    first = actions.admit(
        admission(5), beds["shared"][0], users["clinician"], at=clock.now() - timedelta(days=9)
    )
    actions.discharge(first, users["clinician"], at=clock.now() - timedelta(days=4))
    code = first.person.return_card_code
    again = admission(7, card=code.lower()[:4] + "-" + code.lower()[4:])
    again.alias, again.birth_year = "", 0  # a returning person need not say anything again
    second = actions.admit(again, beds["shared"][1], users["clinician"])
    assert second.person == first.person
    assert second.readmission_of == first
    assert InpatientPerson.objects.count() == 1
    assert not Identity.objects.exists() and not Client.objects.exists()
    with pytest.raises(Refusal) as refused:  # already in
        actions.admit(admission(7, card=code), beds["private"][0], users["clinician"])
    assert refused.value.code == "open_stay"


def test_identity_at_admission_goes_to_the_vault(users, beds, tariff_now):
    data = admission(7)
    data.identity = IdentityInput(name="王强", phone="13900000001")
    stay = actions.admit(data, beds["shared"][0], users["clinician"])
    client = stay.person.client
    assert Identity.objects.get(client=client).name == "王强"
    assert not Episode.objects.filter(client=client).exists()  # detox is not MMT enrolment
    nurse_data = admission(7)
    nurse_data.identity = IdentityInput(name="李四")
    with pytest.raises(Refusal):  # the nurse may not admit at all
        actions.admit(nurse_data, beds["shared"][1], users["nurse"])


def test_move_between_beds(users, beds, tariff_now):
    stay = actions.admit(admission(7), beds["shared"][0], users["clinician"])
    other = actions.admit(admission(7), beds["shared"][1], users["clinician"])
    with pytest.raises(Refusal):
        actions.move_bed(stay, beds["shared"][1], users["clinician"])
    actions.move_bed(stay, beds["private"][0], users["clinician"])
    stay.refresh_from_db()
    assert stay.bed == beds["private"][0]
    assert stay.price_per_day == Decimal("260.00")
    _rooms, board = queries.bed_board()
    assert board == {"occupied": 2, "cleaning": 1}
    assert other.is_open


def test_taper_dose_and_one_dose_per_day_even_unpaid(users, beds, tariff_now):
    stay = actions.admit(admission(7), beds["shared"][0], users["clinician"])
    assert queries.ledger(stay).due > 0  # nothing paid
    today = clock.today()
    care.order_taper(stay, today, 40, 5, 1, users["clinician"])
    assert care.planned_mg(stay, today + timedelta(days=2)) == 30
    dose = care.record_dose(stay, 40, users["nurse"])
    assert (dose.planned_mg, dose.given_mg) == (40, 40)
    with pytest.raises(Refusal) as refused:
        care.record_dose(stay, 40, users["nurse"])
    assert refused.value.code == "dosed"
    assert InpatientDose.objects.count() == 1


def test_a_dose_off_the_order_needs_a_note(users, beds, tariff_now):
    stay = actions.admit(admission(7), beds["shared"][0], users["clinician"])
    with pytest.raises(Refusal) as refused:
        care.record_dose(stay, 30, users["nurse"])
    assert refused.value.code == "no_order"
    care.order_taper(stay, clock.today(), 40, 5, 1, users["clinician"])
    with pytest.raises(Refusal):
        care.record_dose(stay, 30, users["nurse"])
    assert care.record_dose(stay, 30, users["nurse"], note="drowsy").given_mg == 30


def test_nurse_cannot_take_payments_or_order_tapers(users, beds, tariff_now):
    stay = actions.admit(admission(7), beds["shared"][0], users["clinician"])
    for attempt in (
        lambda: billing.take_payment(stay, "100", users["nurse"]),
        lambda: billing.refund(stay, "1", users["nurse"]),
        lambda: billing.take_payment(stay, "100", users["clinician"]),
        lambda: care.order_taper(stay, clock.today(), 40, 5, 1, users["nurse"]),
    ):
        with pytest.raises(Refusal) as refused:
            attempt()
        assert refused.value.code == "forbidden"


def test_delivered_against_advertised(users, beds, tariff_now):
    at = clock.now() - timedelta(days=7)
    stay = actions.admit(admission(7), beds["shared"][0], users["clinician"], at=at)
    care.record_care(stay, "psychiatric_review", users["clinician"])
    care.record_cows(
        stay,
        {
            name: 1
            for name in (
                "pulse",
                "sweating",
                "restlessness",
                "pupils",
                "aches",
                "runny_nose",
                "gi_upset",
                "tremor",
                "yawning",
                "anxiety",
                "gooseflesh",
            )
        },
        users["nurse"],
    )
    days, rows = queries.delivered(stay)
    got = {row.label: (row.delivered, row.expected) for row in rows}
    assert days == 7
    assert got["psychiatric_review"] == (1, 2)
    assert got["behavioural_session"] == (0, 3)
    assert stay.cows.get().total == 11


def test_step_down_enrols_an_anonymous_client(users, beds, tariff_now):
    stay = actions.admit(admission(7), beds["shared"][0], users["clinician"])
    actions.discharge(stay, users["clinician"])
    client = actions.step_down(stay, users["clinician"])
    assert (client.alias, client.sex, client.birth_year) == ("阿强", "M", 1982)
    assert client.code != stay.person.return_card_code
    assert Episode.objects.get(client=client).is_open
    assert not Identity.objects.filter(client=client).exists()
    with pytest.raises(Refusal):
        actions.step_down(stay, users["clinician"])


def test_care_report_per_clinician(users, beds, tariff_now):
    a = actions.admit(admission(7), beds["shared"][0], users["clinician"])
    b = actions.admit(admission(7), beds["shared"][1], users["clinician"])
    for stay in (a, b, a):
        care.record_care(stay, "counselling", users["clinician"])
    care.record_care(a, "nursing", users["nurse"])
    report = {row.username: row for row in queries.care_report(clock.today())}
    assert report["clinician1"].patients == 2
    assert report["clinician1"].by_kind["counselling"] == 3
    assert report["nurse1"].total == 1


def test_the_database_itself_refuses_a_second_open_stay_in_a_bed(users, beds, tariff_now):
    """Even code that skips the checks cannot double-book: the partial unique index holds."""
    stay = actions.admit(admission(7), beds["shared"][0], users["clinician"])
    other = actions.admit(admission(7), beds["shared"][1], users["clinician"])
    other.bed = stay.bed
    with pytest.raises(IntegrityError), transaction.atomic():
        other.save(update_fields=["bed"])
    assert Stay.objects.filter(bed=stay.bed, discharged_at__isnull=True).count() == 1


@pytest.mark.parametrize("days", ["0", "-1", "x"])
def test_bad_extensions_and_refunds_write_nothing(users, beds, tariff_now, days):
    stay = actions.admit(admission(7), beds["shared"][0], users["clinician"])
    before = counts()
    with pytest.raises(Refusal):
        billing.extend(stay, days, users["manager"])
    with pytest.raises(Refusal):
        billing.refund(stay, "0.01", users["manager"])  # nothing paid, nothing to refund
    with pytest.raises(Refusal):
        billing.take_payment(stay, "-5", users["manager"])
    assert counts() == before
    stay.refresh_from_db()
    assert stay.planned_days == 7
