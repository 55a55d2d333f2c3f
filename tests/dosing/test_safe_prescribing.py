"""Safe prescribing: every limit at its boundary, overrides, the re-induction cap that a
cleared review does not lift, QTc, interactions, pregnancy and split doses."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation
from dosing_factories import make_client, past_dose, stocked

from pingan.audit.models import AuditEntry
from pingan.core import clock
from pingan.core.domain import Refusal
from pingan.dosing import actions, prescribing, queries, safety_actions
from pingan.dosing.limits import DEFAULT_LIMITS
from pingan.dosing.models import Dose, DosePart, Ecg, Hold, Prescription, StockEntry, TaperPlan
from pingan.registry.models import Client, Episode

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 10, 9, 0)
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def frozen(clock_at):
    return clock_at(NOW)


@pytest.fixture(autouse=True)
def english():
    """The messages are asserted in English, whatever language a request left active."""
    with translation.override("en"):
        yield


def new_client(code: str) -> Client:
    client = Client.objects.create(code=code, alias=code, sex="F", birth_year=1990)
    Episode.objects.create(client=client, enrolled_on=clock.today())
    return client


def history_of(client, steps, by):
    """Prescriptions as (mg, days ago, induction), oldest first."""
    for mg, days_ago, induction in steps:
        Prescription.objects.filter(client=client, superseded_at__isnull=True).update(
            superseded_at=clock.now()
        )
        Prescription.objects.create(
            client=client,
            mg=mg,
            start_on=clock.today() - timedelta(days=days_ago),
            induction=induction,
            clinician=by,
            reason="history",
        )


# The limits at their boundaries ---------------------------------------------------------


@pytest.mark.parametrize("mg,ok", [(30, True), (31, False)])
def test_first_dose_boundary(users, mg, ok):
    client = new_client(f"PA-F{mg}")
    if ok:
        p = actions.prescribe(client, mg, clock.today(), users["clinician"], "induction")
        assert p.overrides == "" and p.review.from_mg is None
        return
    with pytest.raises(Refusal) as refused:
        actions.prescribe(client, mg, clock.today(), users["clinician"], "induction")
    assert refused.value.code == "override" and "30" in refused.value.message
    assert not Prescription.objects.filter(client=client).exists()


@pytest.mark.parametrize("second,ok", [(10, True), (11, False)])
def test_first_day_boundary(users, second, ok):
    """30 mg first, then the rest of the first day: 40 mg in all is the limit."""
    client = new_client(f"PA-D{second}")
    args = (client, 30 + second, clock.today(), users["clinician"], "induction")
    if ok:
        p = actions.prescribe(*args, parts=(30, second))
        assert (p.mg, p.first_part_mg, p.second_part_mg) == (40, 30, 10)
        return
    with pytest.raises(Refusal) as refused:
        actions.prescribe(*args, parts=(30, second))
    assert "40" in refused.value.message
    assert not Prescription.objects.filter(client=client).exists()


@pytest.mark.parametrize("step,ok", [(10, True), (11, False)])
def test_step_boundary_in_the_first_weeks(users, step, ok):
    client = new_client(f"PA-S{step}")
    history_of(client, [(30, 10, True)], users["clinician"])
    call = (client, 30 + step, clock.today(), users["clinician"], "titration")
    if ok:
        assert actions.prescribe(*call).overrides == ""
    else:
        with pytest.raises(Refusal, match="11 mg"):
            actions.prescribe(*call)


@pytest.mark.parametrize("days,ok", [(2, False), (3, True)])
def test_days_since_the_last_increase(users, days, ok):
    client = new_client(f"PA-I{days}")
    history_of(client, [(30, 10, True), (40, days, False)], users["clinician"])
    call = (client, 45, clock.today(), users["clinician"], "titration")
    if ok:
        assert actions.prescribe(*call).overrides == ""
    else:
        with pytest.raises(Refusal) as refused:
            actions.prescribe(*call)
        assert "2 day(s)" in refused.value.message
        assert Prescription.objects.filter(client=client).count() == 2


def test_later_limits_after_four_weeks(users):
    client = new_client("PA-L1")
    history_of(client, [(30, 60, True), (60, 10, False)], users["clinician"])
    assert actions.prescribe(client, 80, clock.today(), users["clinician"], "ok").overrides == ""
    with pytest.raises(Refusal):  # 21 mg, and only 0 days since the last increase
        actions.prescribe(client, 101, clock.today(), users["clinician"], "too fast")


def test_override_is_recorded_audited_and_shown(users, client_as):
    stocked(1000, users["manager"])
    client = make_client("PA-O1", users["clinician"], mg=85)
    p = actions.prescribe(
        client,
        200,
        clock.today(),
        users["clinician"],
        "pain crisis",
        override_reason="hospital consultant advice",
    )
    assert p.override_codes == [prescribing.STEP]
    assert p.review.summary.startswith("85 → 200 mg (+115 mg, +135.3%")
    entry = AuditEntry.objects.filter(action="prescribe").latest("pk")
    assert "hospital consultant advice" in str(entry.detail) and "step" in str(entry.detail)
    page = client_as("clinician").get(reverse("dosing:client", args=[client.external_id]))
    assert "hospital consultant advice" in page.content.decode()
    queue = client_as("nurse").get(reverse("dosing:queue")).content.decode()
    assert "data-override" in queue and "hospital consultant advice" in queue
    actions.record_dose(client, users["nurse"])
    page = client_as("clinician").get(reverse("dosing:client", args=[client.external_id]))
    assert page.content.decode().count("data-override") >= 3  # list, prescription, dose row


def test_override_by_a_role_that_may_not_give_it(users):
    client = make_client("PA-O2", users["clinician"])
    with pytest.raises(Refusal):
        actions.prescribe(client, 90, clock.today(), users["nurse"], "x", override_reason="y")
    assert Prescription.objects.filter(client=client).count() == 1


def test_centre_limits_are_settings(users):
    safety_actions.save_limits({"first_dose_max_mg": 20, "first_day_max_mg": 30}, users["manager"])
    assert queries.dose_limits().first_dose_max_mg == 20
    with pytest.raises(Refusal):
        actions.prescribe(new_client("PA-C1"), 25, clock.today(), users["clinician"], "x")
    with pytest.raises(ValidationError):  # the first dose cannot exceed the first day
        safety_actions.save_limits({"first_dose_max_mg": 50}, users["manager"])
    assert queries.dose_limits().first_dose_max_mg == 20


# The prescribe screen --------------------------------------------------------------------


def test_prescribe_screen_shows_the_change_and_asks_before_saving(users, client_as):
    client = make_client("PA-W1", users["clinician"], mg=85)
    web = client_as("clinician")
    web.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    url = reverse("dosing:prescribe", args=[client.external_id])
    order = {"mg": 200, "start_on": clock.today().isoformat(), "reason": "cravings"}
    shown = web.post(url, order).content.decode()
    assert "data-from" in shown and "85 mg" in shown and "200 mg" in shown
    assert "+115 mg" in shown and "+135.3%" in shown and 'data-check="step"' in shown
    assert Prescription.objects.filter(client=client).count() == 1
    refused = web.post(url, {**order, "confirmed": "on"})
    assert refused.status_code == 400 and Prescription.objects.filter(client=client).count() == 1
    saved = web.post(
        url, {**order, "confirmed": "on", "override_reason": "specialist"}, follow=True
    )
    html = saved.content.decode()
    assert "85 → 200 mg" in html and "specialist" in html


def test_split_parts_must_add_up_on_the_screen(users, client_as):
    client = make_client("PA-W2", users["clinician"], mg=60)
    web = client_as("clinician")
    url = reverse("dosing:prescribe", args=[client.external_id])
    order = {
        "mg": 60,
        "start_on": clock.today().isoformat(),
        "reason": "pregnant",
        "confirmed": "on",
    }
    bad = web.post(url, {**order, "first_part_mg": 30, "second_part_mg": 20})
    assert bad.status_code == 400 and "60" in bad.content.decode()
    assert Prescription.objects.filter(client=client).count() == 1


# Re-induction --------------------------------------------------------------------------------


def test_clearing_the_review_hold_at_the_reinduction_threshold_leaves_the_dose_capped(
    users, client_as
):
    stocked(1000, users["manager"])
    client = make_client("PA-R1", users["clinician"], mg=75, last_dose_days_ago=6)
    hold = actions.place_hold(client, "missed_dose_review", "missed days", users["nurse"])
    actions.clear_hold(hold, users["clinician"], "spoke with the client")
    row = queries.row_for(client, clock.today())
    assert row.decision.can_dose and row.decision.mg == 30 and row.decision.capped_from == 75
    html = client_as("nurse").get(reverse("dosing:queue")).content.decode()
    assert "data-capped" in html and "75" in html
    result = actions.record_dose(client, users["nurse"])
    assert result.ok and result.dose.mg == 30 and result.dose.capped
    # The next day the cap still holds: only a new induction lifts it.
    clock_next = clock.now() + timedelta(days=1)
    with clock.frozen(clock_next):
        assert queries.row_for(client, clock.today()).decision.mg == 30
        actions.prescribe(
            client, 25, clock.today(), users["clinician"], "re-induce", induction=True
        )
        assert queries.row_for(client, clock.today()).decision.mg == 25


def test_cap_in_the_queue_and_the_single_row_agree(users):
    client = make_client("PA-R2", users["clinician"], mg=75, last_dose_days_ago=6)
    hold = actions.place_hold(client, "missed_dose_review", "missed", users["nurse"])
    actions.clear_hold(hold, users["clinician"], "ok")
    (row,) = [r for r in queries.queue(clock.today()) if r.client.pk == client.pk]
    single = queries.row_for(client, clock.today())
    assert row.facts == single.facts and row.decision == single.decision


# ECG and QTc ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "qtc,codes",
    [(449, []), (450, ["qtc_warn"]), (499, ["qtc_warn"]), (500, ["qtc_increase"])],
)
def test_qtc_boundaries_on_an_increase(users, qtc, codes):
    client = make_client(f"PA-Q{qtc}", users["clinician"], mg=60)
    safety_actions.record_ecg(client, clock.today(), qtc, users["clinician"])
    if "qtc_increase" in codes:
        with pytest.raises(Refusal, match="500"):
            actions.prescribe(client, 70, clock.today(), users["clinician"], "up")
        return
    p = actions.prescribe(client, 70, clock.today(), users["clinician"], "up")
    assert [c.code for c in p.review.checks] == codes


@pytest.mark.parametrize("qtc", [299, 701, "abc"])
def test_qtc_out_of_range_is_refused(users, qtc):
    client = make_client(f"PA-QR{qtc}", users["clinician"])
    with pytest.raises(Refusal):
        safety_actions.record_ecg(client, clock.today(), qtc, users["clinician"])
    assert not Ecg.objects.exists()


def test_ecg_in_the_future_is_refused(users, client_as):
    client = make_client("PA-QF", users["clinician"])
    for language, words in (("en", "cannot be in the future"), ("zh-hans", "不能晚于今天")):
        page = client_as("clinician").post(
            reverse("dosing:ecg_add", args=[client.external_id]),
            {"recorded_on": (clock.today() + timedelta(days=1)).isoformat(), "qtc_ms": 420},
            HTTP_ACCEPT_LANGUAGE=language,
        )
        assert page.status_code == 400 and words in page.content.decode()
    assert not Ecg.objects.exists()


def test_ecg_due_at_120_mg_on_prescribe_client_page_and_worklist(users, client_as):
    client = make_client("PA-E1", users["clinician"], mg=120)
    other = make_client("PA-E2", users["clinician"], mg=119)
    web = client_as("clinician")
    assert (
        'data-check="ecg_due"'
        in web.get(reverse("dosing:client", args=[client.external_id])).content.decode()
    )
    worklist = web.get(reverse("dosing:worklist")).content.decode()
    assert 'data-client="PA-E1"' in worklist and 'data-client="PA-E2"' not in worklist
    safety_actions.record_ecg(client, clock.today() - timedelta(days=365), 430, users["clinician"])
    assert 'data-client="PA-E1"' not in web.get(reverse("dosing:worklist")).content.decode()
    p = actions.prescribe(other, 125, clock.today(), users["clinician"], "up")
    assert "ecg_due" in [c.code for c in p.review.warnings]


def test_high_qtc_on_the_worklist(users, client_as):
    client = make_client("PA-E3", users["clinician"], mg=60)
    safety_actions.record_ecg(client, clock.today(), 510, users["clinician"])
    html = client_as("clinician").get(reverse("dosing:worklist")).content.decode()
    assert 'data-client="PA-E3"' in html and 'data-check="qtc_high"' in html


# Other medicines -------------------------------------------------------------------------------


def test_efavirenz_flags_the_prescribe_and_dosing_screens(users, client_as):
    stocked(1000, users["manager"])
    client = make_client("PA-M1", users["clinician"], mg=60)
    safety_actions.start_medicine(client, "Efavirenz 600 mg", clock.today(), users["clinician"])
    web = client_as("clinician")
    shown = web.post(
        reverse("dosing:prescribe", args=[client.external_id]),
        {"mg": 65, "start_on": clock.today().isoformat(), "reason": "withdrawal"},
    ).content.decode()
    assert 'data-check="interaction"' in shown and "Efavirenz" in shown
    queue = client_as("nurse").get(reverse("dosing:queue")).content.decode()
    assert 'data-interaction="efavirenz"' in queue
    panel = (
        client_as("nurse")
        .get(reverse("dosing:dose_confirm", args=[client.external_id]), **HTMX)
        .content.decode()
    )
    assert 'data-interaction="efavirenz"' in panel and 'data-action="confirm-dose"' in panel
    # a warning, not a block
    assert actions.record_dose(client, users["nurse"]).ok
    medicine = client.other_medicines.get()
    safety_actions.stop_medicine(medicine, clock.today(), users["clinician"])
    with clock.frozen(clock.now() + timedelta(days=1)):
        assert queries.row_for(client, clock.today()).flags == []


def test_chinese_names_match_the_table():
    from pingan.dosing import interactions

    assert interactions.match("依非韦伦片").key == "efavirenz"
    assert interactions.match("利福平胶囊").key == "rifampicin"
    assert interactions.match("氟康唑").effect == interactions.RAISES
    assert interactions.match("vitamin C") is None
    assert all(row.source for row in interactions.TABLE)


# Pregnancy ---------------------------------------------------------------------------------


def test_taper_while_pregnant_needs_an_override(users):
    client = make_client("PA-P1", users["clinician"], mg=60)
    safety_actions.set_pregnancy(client, clock.today(), date(2026, 9, 1), users["clinician"])
    taper = (client, clock.today(), 60, 0, 5, 7, users["clinician"], "wants to stop")
    with pytest.raises(Refusal, match="pregnant"):
        actions.start_taper(*taper)
    assert not TaperPlan.objects.exists()
    plan = actions.start_taper(*taper, override_reason="client's informed choice")
    assert plan.overrides == "pregnancy_taper"


def test_pregnancy_dates_are_checked(users):
    client = make_client("PA-P2", users["clinician"])
    with pytest.raises(Refusal):
        safety_actions.set_pregnancy(
            client, clock.today() + timedelta(days=1), None, users["clinician"]
        )
    with pytest.raises(Refusal):
        safety_actions.set_pregnancy(
            client, clock.today(), clock.today() - timedelta(days=1), users["clinician"]
        )
    assert not client.pregnancies.exists()


# Split doses ---------------------------------------------------------------------------------


def test_split_dose_counts_once_a_day_twice_in_the_log_and_the_ledger_balances(users):
    product = stocked(1000, users["manager"])
    client = make_client("PA-SP1", users["clinician"], mg=60)
    actions.prescribe(client, 60, clock.today(), users["clinician"], "pregnant", parts=(40, 20))
    first = actions.record_dose(client, users["nurse"])
    assert first.ok and first.dose.mg == 40
    again = actions.record_dose(client, users["nurse"])
    assert not again.ok and again.blocks[0].code == "already_dosed"
    second = actions.record_second_part(client, users["nurse"])
    assert second.ok
    assert Dose.objects.filter(client=client, date=clock.today()).count() == 1
    dose = Dose.objects.get(client=client, date=clock.today())
    assert (dose.mg, dose.mg_in_clinic, dose.volume_ml) == (60, 60, Decimal("60.00"))
    assert not actions.record_second_part(client, users["nurse"]).ok  # no third part
    lines = [line for line in queries.dispensing_lines(clock.today()) if line.dose == dose]
    assert [(line.part, line.mg_in_clinic) for line in lines] == [(1, 40), (2, 20)]
    assert DosePart.objects.filter(dose=dose).count() == 2
    entries = list(StockEntry.objects.filter(product=product).order_by("pk"))
    product.refresh_from_db()
    assert product.balance_ml == entries[-1].balance_ml == sum(e.ml for e in entries) == 940
    assert sum(e.ml for e in entries if e.dose_id == dose.pk) == -dose.volume_ml


def test_split_with_an_evening_takehome_part(users, client_as):
    product = stocked(1000, users["manager"])
    client = make_client("PA-SP2", users["clinician"], mg=60)
    actions.prescribe(
        client,
        60,
        clock.today(),
        users["clinician"],
        "evening",
        parts=(30, 30),
        second_part_home=True,
    )
    result = actions.record_dose(client, users["nurse"])
    dose = result.dose
    assert (dose.mg, dose.mg_in_clinic, dose.mg_taken_home) == (60, 30, 30)
    log = client_as("manager").get(reverse("dosing:log")).content.decode()
    assert log.count('data-line="PA-SP2"') == 2
    product.refresh_from_db()
    assert product.balance_ml == 940


def test_split_parts_that_do_not_add_up_are_refused(users):
    client = make_client("PA-SP3", users["clinician"], mg=60)
    with pytest.raises(Refusal, match="add up"):
        actions.prescribe(client, 60, clock.today(), users["clinician"], "x", parts=(30, 20))
    with pytest.raises(Refusal):
        actions.prescribe(client, 60, clock.today(), users["clinician"], "x", second_part_home=True)
    assert Prescription.objects.filter(client=client).count() == 1


def test_limits_default_to_the_documented_values():
    assert (DEFAULT_LIMITS.first_dose_max_mg, DEFAULT_LIMITS.first_day_max_mg) == (30, 40)
    assert (DEFAULT_LIMITS.early_step_max_mg, DEFAULT_LIMITS.early_interval_days) == (10, 3)
    assert (DEFAULT_LIMITS.later_step_max_mg, DEFAULT_LIMITS.later_interval_days) == (20, 5)
    assert (DEFAULT_LIMITS.qtc_warn_ms, DEFAULT_LIMITS.qtc_block_ms) == (450, 500)


def test_hold_count_unchanged_by_the_cap(users):
    client = make_client("PA-H1", users["clinician"], mg=75, last_dose_days_ago=6)
    past_dose(client, clock.today() - timedelta(days=20))
    assert not actions.record_dose(client, users["nurse"]).ok  # opens the re-induction hold
    assert Hold.objects.filter(client=client, kind="reinduction").count() == 1


def test_limits_screen_for_the_manager_only(client_as):
    url = reverse("dosing:limits")
    assert client_as("nurse").get(url).status_code == 403
    web = client_as("manager")
    page = web.get(url).content.decode()
    assert "efavirenz" in page and "Clarke SM" in page
    fields = {name: getattr(DEFAULT_LIMITS, name) for name in DEFAULT_LIMITS.__dataclass_fields__}
    bad = web.post(url, {**fields, "first_dose_max_mg": 50})
    assert bad.status_code == 400 and queries.dose_limits() == DEFAULT_LIMITS
    assert web.post(url, {**fields, "first_dose_max_mg": 25}).status_code == 302
    assert queries.dose_limits().first_dose_max_mg == 25
