"""The eligibility engine at every boundary docs/takehome-standard.md names, and the standard's validation."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import translation

from pingan.takehome import rules
from pingan.takehome.standard import StandardInvalid, default_document, parse, profile_rules

D = date(2026, 6, 1)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def perfect(day_of_treatment: int, **overrides) -> rules.History:
    """A client who came every day and gave a negative sample every week."""
    enrolled = D - timedelta(days=day_of_treatment)
    doses = frozenset(enrolled + timedelta(days=i) for i in range(day_of_treatment))
    samples = tuple((D - timedelta(days=k), False) for k in range(3, day_of_treatment + 1, 7))
    facts = {
        "code": "PA-1",
        "enrolled_on": enrolled,
        "dose_days": doses,
        "samples": tuple(sorted(samples)),
        "admin": rules.AdminFacts(
            record_check=(D - timedelta(days=10), True),
            lockbox=True,
            consents=frozenset({"police_record_check", "sms"}),
        ),
    }
    facts.update(overrides)
    return rules.History(**facts)


def allowed(profile: str, history: rules.History) -> int:
    return rules.evaluate(history, profile_rules(profile), D).allowed_days


def check(decision: rules.Decision, name: str) -> rules.Check:
    return next(c for c in decision.checks if c.name == name)


@pytest.mark.parametrize(
    ("profile", "day", "days"),
    [
        ("us-2024", 0, 7),
        ("us-2024", 14, 7),
        ("us-2024", 15, 14),
        ("us-2024", 30, 14),
        ("us-2024", 31, 28),
        ("us-2001", 89, 1),
        ("us-2001", 90, 2),
        ("us-2001", 179, 2),
        ("us-2001", 180, 3),
        ("us-2001", 269, 3),
        ("us-2001", 270, 6),
        ("us-2001", 364, 6),
        ("us-2001", 365, 14),
        ("us-2001", 729, 14),
        ("us-2001", 730, 31),
        ("pingan", 89, 0),
        ("pingan", 90, 2),
        ("pingan", 179, 2),
        ("pingan", 180, 4),
        ("pingan", 364, 4),
        ("pingan", 365, 6),
    ],
)
def test_day_of_treatment_boundaries(profile, day, days):
    assert allowed(profile, perfect(day)) == days


def test_positive_exactly_30_days_back_fails_31_passes():
    enrolled = D - timedelta(days=40)
    doses = frozenset(enrolled + timedelta(days=i) for i in range(40))
    for back, expected in ((30, 0), (31, 28)):
        h = rules.History("PA-1", enrolled, doses, ((D - timedelta(days=back), True),))
        decision = rules.evaluate(h, profile_rules("us-2024"), D)
        assert decision.allowed_days == expected
        assert check(decision, "no_positive_30d").passed is (back == 31)


def test_positive_sample_on_day_d_does_not_count():
    h = perfect(100)
    h = rules.History(h.code, h.enrolled_on, h.dose_days, h.samples + ((D, True),), h.admin)
    assert allowed("pingan", h) == 2


def test_empty_window_passes_on_enrolment_day():
    decision = rules.evaluate(perfect(0, dose_days=frozenset()), profile_rules("us-2024"), D)
    assert decision.allowed_days == 7
    assert check(decision, "adherence_30d_80pct").passed
    assert "no days yet" in check(decision, "adherence_30d_80pct").evidence


def test_window_cut_at_enrolment():
    # Day 10: the 30-day window has 10 days; 8 doses = 80 % passes, 7 = 70 % fails.
    enrolled = D - timedelta(days=10)
    for n, expected in ((8, 7), (7, 0)):
        doses = frozenset(enrolled + timedelta(days=i) for i in range(n))
        h = rules.History("PA-1", enrolled, doses)
        decision = rules.evaluate(h, profile_rules("us-2024"), D)
        assert decision.allowed_days == expected
        assert f"{n}/10 days" in check(decision, "adherence_30d_80pct").evidence


def test_adherence_exactly_at_threshold():
    h = perfect(100)
    window = [D - timedelta(days=k) for k in range(1, 31)]
    for missed, expected in ((3, 2), (4, 0)):  # 27/30 = 90 % passes, 26/30 fails
        doses = h.dose_days - set(window[:missed])
        h2 = rules.History(h.code, h.enrolled_on, doses, h.samples, h.admin)
        decision = rules.evaluate(h2, profile_rules("pingan"), D)
        assert decision.allowed_days == expected
        evidence = check(decision, "adherence_30d_90pct").evidence
        assert evidence == (
            "adherence 27/30 days ≥ 90%" if missed == 3 else "adherence 26/30 days < 90%"
        )


def test_pingan_needs_one_negative_in_30_days():
    h = perfect(100)
    old = tuple(s for s in h.samples if s[0] < D - timedelta(days=30))
    h2 = rules.History(h.code, h.enrolled_on, h.dose_days, old, h.admin)
    decision = rules.evaluate(h2, profile_rules("pingan"), D)
    assert decision.allowed_days == 0
    assert check(decision, "negative_in_30d").passed is False


def with_samples(h: rules.History, *extra: tuple[date, bool]) -> rules.History:
    return rules.History(
        h.code, h.enrolled_on, h.dose_days, tuple(sorted(h.samples + extra)), h.admin
    )


def test_day_400_with_a_positive_100_days_ago_gets_what_day_200_gets():
    """The same record — perfect attendance, a negative sample a week, one positive 100 days
    ago — at day 200 and at day 400. Day 400 reaches the 6-day tier, which the positive
    fails (no positive in 180 days); the client steps down to the 4-day tier the record
    still earns, exactly as at day 200, and the evidence says which tier failed and why."""
    positive = (D - timedelta(days=100), True)
    pingan = profile_rules("pingan")
    at_200 = rules.evaluate(with_samples(perfect(200), positive), pingan, D)
    at_400 = rules.evaluate(with_samples(perfect(400), positive), pingan, D)
    assert at_200.allowed_days == at_400.allowed_days == 4
    assert at_400.ready
    six = check(at_400, "tier_6d")
    assert six.passed is False and six.kind == "tier"
    assert six.evidence == (
        "the 6-day tier (from day 365) not met: positive sample on 2026-02-21, 100 days ago"
    )
    assert check(at_400, "tier_4d").evidence == "the 4-day tier (from day 180): every criterion met"
    assert check(at_400, "no_positive_180d").passed is False
    assert check(at_400, "no_positive_90d").passed  # the 4-day tier's own criterion
    assert "tier_2d" not in {c.name for c in at_400.checks}  # not tried: 4 days passed
    assert at_400.not_met == [six.evidence]
    assert "tier_6d" not in {c.name for c in at_200.checks}  # not reached at day 200
    # A positive 200 days back is outside even the 6-day tier's 180 days.
    at_400 = rules.evaluate(with_samples(perfect(400), (D - timedelta(days=200), True)), pingan, D)
    assert at_400.allowed_days == 6 and at_400.not_met == []


def test_no_tier_passes_names_every_tier_tried():
    """A positive 10 days ago fails all three tiers: 0 days, and each tier says why."""
    decision = rules.evaluate(
        with_samples(perfect(400), (D - timedelta(days=10), True)), profile_rules("pingan"), D
    )
    assert decision.allowed_days == 0 and not decision.ready
    tiers = [c for c in decision.checks if c.kind == "tier"]
    assert [c.name for c in tiers] == ["tier_6d", "tier_4d", "tier_2d"]
    assert all(c.passed is False for c in tiers)
    assert tiers[2].evidence == (
        "the 2-day tier (from day 90) not met: positive sample on 2026-05-22, 10 days ago"
    )
    # The 4-day tier also fails its run: the negatives since the positive are too few.
    assert tiers[1].evidence == (
        "the 4-day tier (from day 180) not met: positive sample on 2026-05-22, 10 days ago;"
        " negative run 1 < 3"
    )
    assert decision.not_met == [c.evidence for c in tiers]


def test_us_tiers_share_their_criteria_and_show_them_once():
    enrolled = D - timedelta(days=40)
    h = rules.History("PA-1", enrolled, frozenset(), ())  # never came: adherence 0/30
    decision = rules.evaluate(h, profile_rules("us-2024"), D)
    assert decision.allowed_days == 0
    names = [c.name for c in decision.checks if c.kind in ("tier", "criterion")]
    assert names == ["tier_28d", "adherence_30d_80pct", "no_positive_30d", "tier_14d", "tier_7d"]


def test_before_the_first_tier_the_day_of_treatment_is_what_fails():
    decision = rules.evaluate(perfect(45), profile_rules("pingan"), D)
    assert decision.allowed_days == 0
    assert decision.not_met == ["day 45 of treatment: take-home from day 90"]
    assert check(decision, "adherence_30d_90pct").passed  # how the record stands meanwhile


def test_evidence_in_chinese():
    positive = (D - timedelta(days=100), True)
    with translation.override("zh-hans"):
        decision = rules.evaluate(with_samples(perfect(400), positive), profile_rules("pingan"), D)
    assert check(decision, "tier_6d").evidence == (
        "6 天档（自治疗第 365 天起）未达到：2026-02-21 尿检阳性，100 天前"
    )
    assert check(decision, "tier_4d").evidence == "4 天档（自治疗第 180 天起）：各项条件均已满足"


def test_negative_run_counted_back_from_latest():
    h = perfect(400)
    # Only two negatives since the latest positive: the run is counted back from the latest.
    recent = (
        (D - timedelta(days=195), True),
        (D - timedelta(days=20), False),
        (D - timedelta(days=5), False),
    )
    h4 = rules.History(h.code, h.enrolled_on, h.dose_days, recent, h.admin)
    decision = rules.evaluate(h4, profile_rules("pingan"), D)
    assert check(decision, "negative_run_6").evidence == "negative run 2 < 6"
    assert check(decision, "negative_run_3").evidence == "negative run 2 < 3"
    # Neither the 6- nor the 4-day tier: the 2-day tier's criteria hold.
    assert decision.allowed_days == 2
    h5 = perfect(200)
    h5 = rules.History(h5.code, h5.enrolled_on, h5.dose_days, recent[1:], h5.admin)
    decision = rules.evaluate(h5, profile_rules("pingan"), D)
    assert check(decision, "negative_run_3").evidence == "negative run 2 < 3"
    assert decision.allowed_days == 2


def test_opioid_positive_is_opiates_or_morphine():
    rows = [
        (1, D, "methadone", "positive"),
        (1, D, "opiates", "negative"),
        (2, D - timedelta(days=1), "morphine", "positive"),
        (2, D - timedelta(days=1), "opiates", "negative"),
        (3, D - timedelta(days=2), "ketamine", "positive"),
    ]
    assert rules.opioid_samples(rows) == ((D - timedelta(days=1), True), (D, False))


def test_two_samples_on_one_day_count_twice():
    """docs/takehome-standard.md counts samples; a negative the day of a positive is not in the run."""
    day = D - timedelta(days=3)
    rows = [(1, day, "opiates", "negative"), (2, day, "opiates", "negative")]
    assert rules.opioid_samples(rows) == ((day, False), (day, False))
    rows.append((3, day, "morphine", "positive"))
    rows.append((4, D - timedelta(days=1), "opiates", "negative"))
    history = perfect(400, samples=rules.opioid_samples(rows))
    agg = rules.aggregate(history, profile_rules("pingan"), D)
    assert agg.last_positive == day
    assert agg.negative_run == 1
    assert agg.negatives_in[30] == 3


def test_administrative_checks_decide_ready():
    decision = rules.evaluate(perfect(100), profile_rules("pingan"), D)
    assert decision.allowed_days == 2 and decision.ready
    bare = perfect(100, admin=rules.AdminFacts())
    decision = rules.evaluate(bare, profile_rules("pingan"), D)
    assert decision.allowed_days == 2 and not decision.ready
    assert check(decision, "police_record_check").evidence == "no police record check yet"
    assert check(decision, "consent_police_record_check").evidence == (
        "no consent to the police record check"
    )
    assert check(decision, "consent_sms").evidence == "no consent to text messages"
    assert check(decision, "consent_sms").passed is False


def test_us_profiles_list_clinician_checks_to_confirm():
    decision = rules.evaluate(perfect(400, admin=rules.AdminFacts()), profile_rules("us-2001"), D)
    confirm = [c for c in decision.checks if c.name.startswith("confirm_")]
    assert len(confirm) == 8 and all(c.passed is None for c in confirm)
    assert decision.ready  # no administrative checks in the US profiles


# Validation of the document ----------------------------------------------------------------


def test_shipped_profiles_parse():
    for profile in ("pingan", "us-2024", "us-2001"):
        assert parse(profile, default_document(profile)).tiers


def test_refuses_bad_json_and_contradictions():
    with pytest.raises(StandardInvalid, match="not valid JSON"):
        parse("pingan", "{tiers: ")
    doc = default_document("pingan")
    doc["tiers"][1]["from_day"] = 60  # 4 days earlier than 2 days
    doc["tiers"][1]["adherence_min"] = 80  # and on looser terms
    with pytest.raises(StandardInvalid) as refused:
        parse("pingan", doc)
    assert any("start later" in r for r in refused.value.reasons)
    assert any("less adherence" in r for r in refused.value.reasons)
    doc = default_document("pingan")
    doc["tiers"][0]["days"] = "two"
    with pytest.raises(StandardInvalid, match="whole number"):
        parse("pingan", doc)
    doc = default_document("pingan")
    doc["closed_days"]["max_days"] = 6
    with pytest.raises(StandardInvalid, match="smaller"):
        parse("pingan", doc)
