"""The centre's side: duplicates and their merge, enrolment from a referral, outcomes,
care referrals and the overdue worklist at its date edges, and the indicator inputs."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import override

from pingan.audit.models import AuditEntry
from pingan.core import clock
from pingan.labs.models import InfectionTest
from pingan.referrals import actions, queries, rules
from pingan.referrals.models import CareReferral, Partner, PoliceReferral
from pingan.registry.actions import discharge, enrol_client, record_consent
from pingan.registry.models import Client

pytestmark = pytest.mark.django_db


def _file(officer, name="Zhang San", contact="", on=None):
    return actions.file_referral(
        officer=officer,
        referred_on=on or clock.today() - timedelta(days=5),
        station="Station 1",
        person_name=name,
        person_contact=contact,
        reason="referred instead of detention",
    )


def test_duplicates_found_by_normalised_name_or_phone_within_the_window(users):
    today = clock.today()
    first = _file(users["police"], "Zhang San", on=today - timedelta(days=40))
    second = _file(users["police"], " zhang-SAN ", on=today - timedelta(days=20))
    by_phone = _file(users["police"], "Someone else", "13800138000", on=today - timedelta(days=2))
    phone_again = _file(users["police"], "Another alias", "+86 138 0013 8000", on=today)
    far = _file(users["police"], "Zhang San", on=today - timedelta(days=300))
    assert queries.duplicates_of(second) == [first]
    assert queries.duplicates_of(by_phone) == [phone_again]
    assert queries.duplicates_of(far) == []
    assert queries.duplicate_flags([first, second, by_phone, phone_again, far]) == {
        first.pk,
        second.pk,
        by_phone.pk,
        phone_again.pk,
    }


def test_merge_is_recorded_and_feedback_follows_the_referral_joined(users, new_user):
    clinician = users["clinician"]
    other_officer = new_user("police", "police2")
    keep = _file(users["police"])
    dup = _file(other_officer, "ZHANG SAN")
    actions.merge(dup, keep, clinician)
    dup.refresh_from_db()
    assert dup.merged_into == keep and dup.merged_by == clinician and dup.merged_at is not None
    entry = AuditEntry.objects.get(action="referral_merged")
    assert entry.username == clinician.username
    assert entry.detail["into"] == str(keep.external_id)
    assert entry.target == f"referrals.policereferral:{dup.external_id}"
    assert list(queries.inbox("all")) == [keep]
    # No merging twice, into itself, or into a merged referral.
    for a, b in ((dup, keep), (keep, keep), (_file(users["police"]), dup)):
        with pytest.raises(ValidationError):
            actions.merge(a, b, clinician)
    # The second officer learns what the first referral's client allowed.
    client = enrol_client(alias="Z", sex="M", birth_year=1980, user=clinician)
    record_consent(client, "police_referral_feedback", clock.today(), clinician)
    actions.link_client(keep, client, clinician)
    actions.record_outcome(keep, outcome="enrolled", on=clock.today(), user=clinician)
    assert [r.feedback for r in queries.officer_rows(other_officer)] == ["enrolled"]


def test_enrol_from_referral_links_and_closes_all_or_nothing(users):
    referral = _file(users["police"], contact="13800138000")
    client = actions.enrol_from_referral(
        referral,
        alias="New",
        sex="M",
        birth_year=1988,
        enrolled_on=None,
        copy_identity=True,
        user=users["clinician"],
    )
    referral.refresh_from_db()
    assert referral.client == client and referral.status == "enrolled"
    assert client.identity.phone == "+8613800138000" and client.identity.name == "Zhang San"
    bad = _file(users["police"], "Other person")
    with pytest.raises(ValidationError):
        actions.enrol_from_referral(
            bad,
            alias="",
            sex="M",
            birth_year=1988,
            enrolled_on=None,
            copy_identity=False,
            user=users["clinician"],
        )
    bad.refresh_from_db()
    assert bad.client is None and bad.status == "inbox" and Client.objects.count() == 1


def test_outcome_rules(users):
    staff = users["clinician"]
    referral = _file(users["police"])
    with override("en"), pytest.raises(ValidationError, match="Link"):
        actions.record_outcome(referral, outcome="enrolled", on=clock.today(), user=staff)
    with pytest.raises(ValidationError):
        actions.record_outcome(
            referral, outcome="declined", on=referral.referred_on - timedelta(days=1), user=staff
        )
    actions.record_contact(
        referral, on=clock.today(), method="phone", reached=False, note="", user=staff
    )
    assert referral.status == "contacted"
    actions.record_outcome(referral, outcome="declined", on=clock.today(), user=staff)
    with override("en"), pytest.raises(ValidationError, match="already"):
        actions.record_outcome(referral, outcome="unreachable", on=clock.today(), user=staff)


def test_centre_inbox_and_detail_screens(client_as, users):
    referral = _file(users["police"], "Visible Name", "13800138000")
    _file(users["police"], "visible name")
    web = client_as("clinician")
    inbox = web.get("/referrals/inbox/").content.decode()
    assert "Visible Name" not in inbox  # names only on the audited detail page
    assert inbox.count("badge hold") == 2
    page = web.get(f"/referrals/inbox/{referral.external_id}/").content.decode()
    assert "Visible Name" in page and "+8613800138000" in page
    assert AuditEntry.objects.filter(
        action="referral_identity_read", target=f"referrals.policereferral:{referral.external_id}"
    ).exists()
    response = web.post(f"/referrals/inbox/{referral.external_id}/link/", {"code": "PANOPE"})
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.client is None


def _care(client, user, kind="art", sent_on=None, due_by=None):
    partner = Partner.objects.first() or actions.add_partner(
        name="County Hospital", kind="art", contact="", user=user
    )
    return actions.send_care_referral(
        client,
        kind=kind,
        partner=partner,
        sent_on=sent_on or clock.today(),
        due_by=due_by,
        user=user,
    )


def test_overdue_worklist_date_edges(users, client_as):
    staff = users["clinician"]
    today = clock.today()
    c = enrol_client(alias="Edge", sex="M", birth_year=1980, user=staff)
    sent = today - timedelta(days=20)
    due_today = _care(c, staff, sent_on=sent, due_by=today)
    due_yesterday = _care(c, staff, "hcv", sent_on=sent, due_by=today - timedelta(days=1))
    completed = _care(c, staff, "tb", sent_on=sent, due_by=today - timedelta(days=5))
    actions.complete_care_referral(completed, completed_on=today, outcome="linked", user=staff)
    due_tomorrow = _care(c, staff, "social", sent_on=sent, due_by=today + timedelta(days=1))
    assert list(queries.overdue_care(today)) == [due_yesterday]
    assert list(queries.overdue_care(today + timedelta(days=1))) == [due_yesterday, due_today]
    assert due_tomorrow not in queries.overdue_care(today + timedelta(days=1))
    assert completed not in queries.overdue_care(today + timedelta(days=365))
    assert rules.is_overdue(today, None, today) is False
    assert rules.is_overdue(today - timedelta(days=1), None, today) is True
    assert rules.is_overdue(today - timedelta(days=9), today, today) is False
    page = client_as("clinician").get("/referrals/care/overdue/").content.decode()
    assert str(due_yesterday.external_id) in page and str(due_today.external_id) not in page


def test_care_due_date_defaults_per_kind_and_settings(users, settings):
    staff = users["clinician"]
    c = enrol_client(alias="Due", sex="F", birth_year=1980, user=staff)
    sent = clock.today() - timedelta(days=3)
    assert _care(c, staff, "tb", sent_on=sent).due_by == sent + timedelta(days=7)
    settings.PINGAN_CARE_REFERRAL_DUE_DAYS = {"tb": 2}
    assert _care(c, staff, "tb", sent_on=sent).due_by == sent + timedelta(days=2)
    with pytest.raises(ValidationError):
        _care(c, staff, "tb", sent_on=sent, due_by=sent - timedelta(days=1))
    with pytest.raises(ValidationError):
        _care(c, staff, "tb", sent_on=clock.today() + timedelta(days=1))


def test_referral_indicator_inputs(users, monkeypatch):
    staff, police = users["clinician"], users["police"]
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: date(2024, 8, 20))
    period = "2024-05"
    assert queries.months_before(period, 3) == date(2024, 2, 1)
    assert queries.months_before("2024-02", 3) == date(2023, 11, 1)
    assert queries.month_bounds("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))

    def referral(name, on):
        return _file(police, name, on=on)

    quick = referral("A one", date(2024, 5, 2))  # enrolled after exactly 30 days: counts
    c1 = enrol_client(alias="A", sex="M", birth_year=1980, enrolled_on=date(2024, 6, 1), user=staff)
    actions.link_client(quick, c1, staff)
    actions.record_outcome(quick, outcome="enrolled", on=date(2024, 6, 1), user=staff)
    slow = referral("C three", date(2024, 5, 2))  # enrolled after 31 days: does not
    c2 = enrol_client(alias="C", sex="M", birth_year=1980, enrolled_on=date(2024, 6, 2), user=staff)
    actions.link_client(slow, c2, staff)
    actions.record_outcome(slow, outcome="enrolled", on=date(2024, 6, 2), user=staff)
    declined = referral("B two", date(2024, 5, 31))
    actions.record_outcome(declined, outcome="declined", on=date(2024, 6, 1), user=staff)
    dup = referral("b  TWO", date(2024, 5, 20))
    actions.merge(dup, declined, staff)
    referral("Next month", date(2024, 6, 1))

    assert queries.police_referrals(period).numerator == 3
    assert queries.police_referrals(period).value == 3
    enrolled = queries.referrals_enrolled_30d(period)
    assert (enrolled.numerator, enrolled.denominator) == (1, 3)
    empty = queries.referrals_enrolled_30d("2024-01")
    assert (empty.numerator, empty.denominator, empty.value) == (0, 0, None)


def test_retention_and_art_linkage(users, dose, monkeypatch):
    """Dated in the past so every record is allowed (no future dates)."""
    staff, police = users["clinician"], users["police"]
    period = "2024-06"  # P; P-3 is March 2024
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: date(2024, 7, 15))
    kept = PoliceReferral.objects.create(
        referred_on=date(2024, 3, 10),
        station="S",
        officer=police,
        person_name="K",
        name_index="k",
        reason="r",
    )
    gone = PoliceReferral.objects.create(
        referred_on=date(2024, 3, 20),
        station="S",
        officer=police,
        person_name="G",
        name_index="g",
        reason="r",
    )
    PoliceReferral.objects.create(
        referred_on=date(2024, 3, 25),
        station="S",
        officer=police,
        person_name="N",
        name_index="n",
        reason="r",
    )
    c_kept = enrol_client(
        alias="K", sex="M", birth_year=1980, enrolled_on=date(2024, 3, 12), user=staff
    )
    c_gone = enrol_client(
        alias="G", sex="M", birth_year=1980, enrolled_on=date(2024, 3, 21), user=staff
    )
    discharge(c_gone, date(2024, 6, 30), "dropped_out", staff)  # out on P's last day
    for r, c in ((kept, c_kept), (gone, c_gone)):
        actions.link_client(r, c, staff)
    retained = queries.referred_retained_3m(period)
    assert (retained.numerator, retained.denominator) == (1, 3)

    # ART: two HIV-positive clients active in June; one linked to ART in May.
    for c in (c_kept, c_gone):
        dose(c, date(2024, 6, 5), 60)
        InfectionTest.objects.create(
            client=c, tested_on=date(2024, 4, 1), test="hiv", result="positive"
        )
    negative = enrol_client(
        alias="N", sex="F", birth_year=1980, enrolled_on=date(2024, 1, 2), user=staff
    )
    dose(negative, date(2024, 6, 5), 60)
    art = _care(c_kept, staff, "art", sent_on=date(2024, 4, 2))
    actions.complete_care_referral(art, completed_on=date(2024, 5, 1), outcome="linked", user=staff)
    declined = _care(c_gone, staff, "art", sent_on=date(2024, 4, 2))
    actions.complete_care_referral(
        declined, completed_on=date(2024, 5, 1), outcome="declined", user=staff
    )
    share = queries.art_linked_share(period)
    assert (share.numerator, share.denominator, share.value) == (1, 2, 0.5)
    assert queries.art_linked_share("2024-04").denominator == 0
    assert CareReferral.objects.count() == 2


def test_care_referral_screens_send_and_complete(client_as, users):
    staff = users["clinician"]
    subject = enrol_client(alias="Screen", sex="M", birth_year=1980, user=staff)
    partner = actions.add_partner(name="TB Clinic", kind="tb", contact="", user=staff)
    web = client_as("clinician")
    url = f"/referrals/care/client/{subject.external_id}/"
    sent_on = clock.today() - timedelta(days=10)
    response = web.post(
        url + "send/",
        {"kind": "tb", "partner": str(partner.external_id), "sent_on": sent_on.isoformat()},
    )
    assert response.status_code == 302
    referral = CareReferral.objects.get()
    assert referral.due_by == sent_on + timedelta(days=7)
    assert "badge hold" in web.get(url).content.decode()  # overdue by 3 days
    bad = web.post(
        url + "send/",
        {"kind": "tb", "partner": str(partner.external_id), "sent_on": "2999-01-01"},
    )
    assert bad.status_code == 400 and CareReferral.objects.count() == 1
    web.post(
        f"/referrals/care/{referral.external_id}/complete/",
        {"completed_on": clock.today().isoformat(), "outcome": "linked"},
    )
    referral.refresh_from_db()
    assert referral.completed_on == clock.today() and referral.outcome == "linked"
    assert client_as("nurse").get(url).status_code == 200
