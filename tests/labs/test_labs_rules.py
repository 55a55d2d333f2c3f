"""Pure rules: opioid positivity and the random schedule draw."""

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from pingan.labs import rules


def test_opioid_positive_if_opiates_or_morphine():
    assert rules.opioid_positive({"opiates": "positive", "morphine": "negative"}).positive
    assert rules.opioid_positive({"morphine": "positive"}).positive
    decision = rules.opioid_positive({"opiates": "negative", "methadone": "positive"})
    assert decision.positive is False
    assert "opiates negative" in decision.reason


def test_sample_without_opioid_result_is_neither():
    decision = rules.opioid_positive({"methadone": "positive", "ketamine": "negative"})
    assert decision.positive is None


def test_validate_results_names_every_problem():
    problems = rules.validate_results({"heroin": "positive", "opiates": "maybe"})
    assert {p.analyte for p in problems} == {"heroin", "opiates"}
    assert rules.validate_results({})[0].reason == "no analyte result given"


def test_schedule_distinct_days_count_and_reproducible():
    month = date(2026, 3, 1)
    days = rules.month_days(month)
    a = rules.draw_schedule("C001", month, days, 4, seed=7)
    b = rules.draw_schedule("C001", month, days, 4, seed=7)
    assert a.days == b.days
    assert len(set(a.days)) == 4
    assert all(d.month == 3 for d in a.days)
    other = [rules.draw_schedule(f"C{i:03}", month, days, 4, seed=7).days for i in range(20)]
    assert len(set(other)) > 1  # not the same days for everyone


def test_schedule_only_among_eligible_days_and_tops_up():
    month = date(2026, 3, 1)
    eligible = [date(2026, 3, 30), date(2026, 3, 31)]
    short = rules.draw_schedule("C001", month, eligible, 3, seed=1)
    assert short.days == tuple(eligible)
    assert "only 2 open days" in short.reason
    done = rules.draw_schedule("C001", month, rules.month_days(month), 2, seed=1, already=eligible)
    assert done.days == ()
    topped = rules.draw_schedule(
        "C001", month, rules.month_days(month), 3, seed=1, already=[date(2026, 3, 5)]
    )
    assert len(topped.days) == 2 and date(2026, 3, 5) not in topped.days


def test_open_days_excludes_closed():
    month = date(2026, 2, 1)
    closed = [date(2026, 2, 17), date(2026, 2, 18)]
    days = rules.open_days(month, closed)
    assert len(days) == 26 and not set(closed) & set(days)


@given(
    eligible=st.sets(st.integers(min_value=1, max_value=31), max_size=31),
    per_month=st.integers(min_value=0, max_value=10),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_schedule_property_distinct_eligible_and_as_many_as_possible(eligible, per_month, seed):
    month = date(2026, 1, 1)
    days = [date(2026, 1, d) for d in eligible]
    decision = rules.draw_schedule("C9", month, days, per_month, seed=seed)
    assert len(decision.days) == len(set(decision.days)) == min(per_month, len(days))
    assert set(decision.days) <= set(days)
    assert decision.days == rules.draw_schedule("C9", month, days, per_month, seed=seed).days
