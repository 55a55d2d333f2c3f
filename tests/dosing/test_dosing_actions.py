"""Dosing actions against the database: doses, holds, prescriptions, the stock ledger."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone
from dosing_factories import make_client, past_dose, stocked

from pingan.audit.log import verify
from pingan.audit.models import AuditEntry
from pingan.core import clock
from pingan.core.domain import Refusal
from pingan.dosing import actions
from pingan.dosing.models import Dose, Hold, HoldKind, Prescription, Reconciliation, StockEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def product(users):
    return stocked(1000, users["manager"])


def test_record_dose_writes_dose_stock_entry_and_audit(users, product):
    client = make_client("PA-0001", users["clinician"], mg=65)
    result = actions.record_dose(client, users["nurse"], note="looked well")
    assert result.ok, result.message
    dose = Dose.objects.get(client=client, date=clock.today())
    assert (dose.mg, dose.mg_in_clinic, dose.mg_taken_home) == (65, 65, 0)
    assert dose.volume_ml == Decimal("65.00") and dose.strength_mg_per_ml == Decimal("1")
    assert dose.drug == "methadone hydrochloride" and dose.form == "oral solution"
    assert dose.dispenser == users["nurse"] and dose.given_at is not None
    entry = StockEntry.objects.get(dose=dose)
    assert entry.kind == "dose" and entry.ml == Decimal("-65.00")
    assert entry.balance_ml == Decimal("935.00")
    audit = AuditEntry.objects.get(action="dose_record")
    assert audit.client_code == "PA-0001" and audit.username == "nurse1"
    assert verify() == []


def test_second_dose_same_day_refused_with_time_and_dispenser(users, product):
    client = make_client("PA-0002", users["clinician"])
    assert actions.record_dose(client, users["nurse"]).ok
    again = actions.record_dose(client, users["clinician"])
    assert not again.ok and [b.code for b in again.blocks] == ["already_dosed"]
    first = Dose.objects.get(client=client, date=clock.today())
    assert timezone.localtime(first.given_at).strftime("%H:%M") in again.message
    assert "nurse1" in again.message
    assert Dose.objects.filter(client=client, date=clock.today()).count() == 1
    assert StockEntry.objects.filter(kind="dose").count() == 1
    assert AuditEntry.objects.filter(action="dose_refused", client_code="PA-0002").exists()


def test_dose_that_would_make_stock_negative_is_refused_cleanly(users):
    product = stocked(50, users["manager"])
    client = make_client("PA-0003", users["clinician"], mg=60)
    result = actions.record_dose(client, users["nurse"])
    assert not result.ok and result.blocks[0].code == "stock"
    assert "50" in result.message
    assert not Dose.objects.filter(client=client, date=clock.today()).exists()
    assert StockEntry.objects.filter(product=product).count() == 1


def test_dose_changed_since_screen_shown_is_refused(users, product):
    client = make_client("PA-0004", users["clinician"], mg=60)
    result = actions.record_dose(client, users["nurse"], mg=70)
    assert not result.ok and result.blocks[0].code == "dose_changed" and "60" in result.message
    assert actions.record_dose(client, users["nurse"], mg=60).ok


def test_three_missed_days_open_review_hold_until_cleared(users, product):
    client = make_client("PA-0005", users["clinician"], last_dose_days_ago=4)
    result = actions.record_dose(client, users["nurse"])
    assert not result.ok and result.blocks[0].code == "missed_review"
    hold = Hold.objects.get(client=client, cleared_at__isnull=True)
    assert hold.kind == HoldKind.MISSED_DOSE_REVIEW and result.hold_opened == hold
    # pressing again shows the hold, and does not open a second one
    again = actions.record_dose(client, users["nurse"])
    assert [b.code for b in again.blocks] == ["hold"]
    with pytest.raises(Refusal):
        actions.clear_hold(hold, users["nurse"], "reviewed")  # a nurse may not clear
    with pytest.raises(Refusal):
        actions.clear_hold(hold, users["clinician"], "  ")  # the note is required
    actions.clear_hold(hold, users["clinician"], "dose confirmed after review")
    assert actions.record_dose(client, users["nurse"]).ok


def test_two_missed_days_still_dose(users, product):
    client = make_client("PA-0006", users["clinician"], last_dose_days_ago=3)
    assert actions.record_dose(client, users["nurse"]).ok
    assert not Hold.objects.filter(client=client).exists()


def test_five_missed_days_need_new_induction_prescription(users, product):
    client = make_client("PA-0007", users["clinician"], mg=80, last_dose_days_ago=6)
    result = actions.record_dose(client, users["nurse"])
    assert result.blocks[0].code == "reinduction"
    hold = Hold.objects.get(client=client, kind=HoldKind.REINDUCTION)
    with pytest.raises(Refusal) as refused:
        actions.clear_hold(hold, users["clinician"], "seen")
    assert refused.value.code == "needs_induction"
    actions.prescribe(client, 20, clock.today(), users["clinician"], "re-induction", induction=True)
    actions.clear_hold(hold, users["clinician"], "re-induction started at 20 mg")
    result = actions.record_dose(client, users["nurse"])
    assert result.ok and result.dose.mg == 20


def test_four_missed_days_is_review_not_reinduction(users, product):
    client = make_client("PA-0008", users["clinician"], last_dose_days_ago=5)
    assert actions.record_dose(client, users["nurse"]).blocks[0].code == "missed_review"


def test_take_home_day_counts_as_dosed(users, product):
    client = make_client("PA-0009", users["clinician"], last_dose_days_ago=5)
    for days_ago in (1, 2, 3):
        past_dose(client, clock.today() - timedelta(days=days_ago), kind="takehome")
    assert actions.record_dose(client, users["nurse"]).ok


def test_new_client_is_not_missing_before_enrolment(users, product):
    client = make_client(
        "PA-0010", users["clinician"], enrolled_days_ago=0, last_dose_days_ago=None
    )
    assert actions.record_dose(client, users["nurse"]).ok


def test_prescribe_supersedes_and_keeps_history(users, product):
    client = make_client("PA-0011", users["clinician"], mg=60)
    actions.prescribe(client, 70, clock.today(), users["clinician"], "cravings")
    history = list(Prescription.objects.filter(client=client).order_by("created_at"))
    assert [p.mg for p in history] == [60, 70]
    assert history[0].superseded_at is not None and history[1].superseded_at is None
    with pytest.raises(Refusal):
        actions.prescribe(client, 80, clock.today(), users["nurse"], "no")
    with pytest.raises(Refusal):
        actions.prescribe(client, 500, clock.today(), users["clinician"], "too much")
    with pytest.raises(Refusal):
        actions.prescribe(client, 50, clock.today(), users["clinician"], "")
    assert actions.record_dose(client, users["nurse"]).dose.mg == 70


def test_taper_sets_the_dose_and_can_be_cancelled(users, product):
    client = make_client("PA-0012", users["clinician"], mg=60)
    today = clock.today()
    plan = actions.start_taper(
        client, today - timedelta(days=14), 60, 40, 5, 7, users["clinician"], "client asked"
    )
    assert actions.record_dose(client, users["nurse"], day=today).dose.mg == 50
    actions.cancel_taper(plan, users["clinician"], "stopped")
    with pytest.raises(Refusal):
        actions.start_taper(client, today, 40, 50, 5, 7, users["clinician"], "upwards")


def test_place_hold_blocks_and_is_one_per_kind(users, product):
    client = make_client("PA-0013", users["clinician"])
    actions.place_hold(client, HoldKind.INTOXICATED, "smelled of alcohol", users["nurse"])
    with pytest.raises(Refusal):
        actions.place_hold(client, HoldKind.INTOXICATED, "again", users["nurse"])
    assert actions.record_dose(client, users["nurse"]).blocks[0].code == "hold"


def test_not_in_treatment_is_refused(users, product):
    client = make_client("PA-0014", users["clinician"])
    client.episodes.update(discharged_on=clock.today() - timedelta(days=1))
    result = actions.record_dose(client, users["nurse"])
    assert "not_in_treatment" in [b.code for b in result.blocks]


# Stock -------------------------------------------------------------------------------------


def test_stock_ledger_movements_and_reasons(users):
    product = stocked(500, users["manager"])
    with pytest.raises(Refusal):
        actions.record_waste(product, 5, "", users["manager"])
    with pytest.raises(Refusal):
        actions.receive(product, 100, "", users["manager"])
    with pytest.raises(Refusal):
        actions.correct(product, -600, "count", users["manager"])
    actions.record_waste(product, "12.5", "spilled", users["manager"])
    actions.correct(product, -2, "evaporation", users["manager"])
    last = StockEntry.objects.order_by("-pk").first()
    total = StockEntry.objects.aggregate(s=Sum("ml"))["s"]
    assert last.balance_ml == total == Decimal("485.50")


def test_reconciliation_requires_explanation_for_variance(users):
    product = stocked(500, users["manager"])
    today = clock.today()
    with pytest.raises(Refusal) as refused:
        actions.reconcile(product, today, "495", "", users["manager"])
    assert refused.value.code == "explain"
    rec = actions.reconcile(product, today, "495", "spill not logged", users["manager"], True)
    assert rec.expected_ml == Decimal("500.00") and rec.variance_ml == Decimal("-5.00")
    assert rec.correction.ml == Decimal("-5.00") and rec.correction.balance_ml == Decimal("495.00")
    with pytest.raises(Refusal):
        actions.reconcile(product, today, "495", "again", users["manager"])
    assert Reconciliation.objects.count() == 1


def test_reconciliation_without_variance_needs_no_explanation(users):
    product = stocked(300, users["manager"])
    yesterday = clock.today() - timedelta(days=1)
    rec = actions.reconcile(product, yesterday, "0", "", users["manager"])
    assert rec.expected_ml == 0 and rec.variance_ml == 0  # the receipt was today
