"""Each centre sets its missed-dose thresholds on its dosing-limits screen: whole days from
1 to 60, re-induction after more days than the review, saved for the current centre only,
audited with the values before and after; the dose decision then reads them for that
centre's clients only."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.urls import reverse
from dosing_factories import make_client

from pingan.audit.models import AuditEntry
from pingan.core.domain import Forbidden, Refusal
from pingan.core.models import Centre
from pingan.dosing import actions, safety_actions
from pingan.dosing.models import Hold
from pingan.region.models import Membership
from pingan.registry.models import Client
from staff_factory import make_user

pytestmark = pytest.mark.django_db

URL = "dosing:limits"


@pytest.fixture
def two(clock_at):
    """Centres A and B at the default thresholds (review after 3, re-induction after 5),
    each with staff and a client on 60 mg last dosed three days ago (two days missed)."""
    clock_at(datetime(2026, 5, 4, 9, 0))
    made = {}
    for code in ("CA", "CB"):
        centre = Centre.objects.create(code=code, name=f"Centre {code}")
        staff = {
            role: make_user(role, f"{role}-{code}") for role in ("nurse", "clinician", "manager")
        }
        for user in staff.values():
            Membership.objects.create(user=user, centre=centre)
        person = make_client(f"{code}-001", staff["clinician"], last_dose_days_ago=3)
        Client.objects.filter(pk=person.pk).update(centre=centre)
        person.refresh_from_db()
        actions.receive(actions.product_of(centre), 1000, f"LOT-{code}", staff["manager"])
        made[code] = {"centre": centre, "client": person, **staff}
    return made


def web_as(client, user, language="en"):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    client.post("/i18n/setlang/", {"language": language})
    return client


def post(web, review, reinduction):
    return web.post(
        reverse(URL),
        {
            "part": "missed_days",
            "review_after_missed_days": review,
            "reinduction_after_missed_days": reinduction,
        },
    )


def thresholds(centre: Centre) -> tuple[int, int]:
    centre.refresh_from_db()
    return centre.review_after_missed_days, centre.reinduction_after_missed_days


def entries() -> int:
    return AuditEntry.objects.filter(action="missed_dose_thresholds").count()


def test_the_manager_saves_the_current_centres_thresholds_audited(two, client):
    web = web_as(client, two["CB"]["manager"])
    page = web.get(reverse(URL))
    assert 'data-form="missed_days"' in page.content.decode()
    assert "For the clients of Centre CB" in page.content.decode()
    shown = page.context["missed"]
    assert (
        shown["review_after_missed_days"].value(),
        shown["reinduction_after_missed_days"].value(),
    ) == (3, 5)
    response = post(web, "2", "4")
    assert response.status_code == 302
    assert thresholds(two["CB"]["centre"]) == (2, 4)
    assert thresholds(two["CA"]["centre"]) == (3, 5)
    entry = AuditEntry.objects.get(action="missed_dose_thresholds")
    assert entry.centre == two["CB"]["centre"]
    assert entry.detail["before"] == {
        "review_after_missed_days": 3,
        "reinduction_after_missed_days": 5,
    }
    assert entry.detail["after"] == {
        "review_after_missed_days": 2,
        "reinduction_after_missed_days": 4,
    }
    # The screen shows the saved values.
    again = web.get(reverse(URL)).context["missed"]
    assert (
        again["review_after_missed_days"].value(),
        again["reinduction_after_missed_days"].value(),
    ) == (2, 4)


def test_the_dose_decision_uses_the_new_threshold_for_that_centre_only(two, client):
    assert post(web_as(client, two["CB"]["manager"]), "2", "4").status_code == 302
    # Two days missed: B now holds for a clinician's review, A still doses.
    at_b = actions.record_dose(two["CB"]["client"], two["CB"]["nurse"], centre=two["CB"]["centre"])
    assert not at_b.ok
    assert Hold.objects.filter(client=two["CB"]["client"], kind="missed_dose_review").exists()
    at_a = actions.record_dose(two["CA"]["client"], two["CA"]["nurse"], centre=two["CA"]["centre"])
    assert at_a.ok
    assert not Hold.objects.filter(client=two["CA"]["client"]).exists()


def test_the_re_induction_threshold_applies_at_that_centre_only(two, client):
    assert post(web_as(client, two["CB"]["manager"]), "1", "2").status_code == 302
    actions.record_dose(two["CB"]["client"], two["CB"]["nurse"], centre=two["CB"]["centre"])
    assert Hold.objects.filter(client=two["CB"]["client"], kind="reinduction").exists()
    assert actions.record_dose(
        two["CA"]["client"], two["CA"]["nurse"], centre=two["CA"]["centre"]
    ).ok


@pytest.mark.parametrize(
    ("review", "reinduction", "field", "message"),
    [
        ("3", "3", "reinduction_after_missed_days", "more missed days than the clinician review"),
        ("5", "4", "reinduction_after_missed_days", "more missed days than the clinician review"),
        ("0", "5", "review_after_missed_days", "from 1 to 60"),
        ("-1", "5", "review_after_missed_days", "from 1 to 60"),
        ("3", "61", "reinduction_after_missed_days", "from 1 to 60"),
        ("60", "61", "reinduction_after_missed_days", "from 1 to 60"),
        ("1", "1", "reinduction_after_missed_days", "more missed days than the clinician review"),
        ("x", "5", "review_after_missed_days", "whole number"),
        ("3.5", "5", "review_after_missed_days", "whole number"),
        ("", "5", "review_after_missed_days", "required"),
        ("3", "999999999999", "reinduction_after_missed_days", "from 1 to 60"),
    ],
)
def test_bad_input_is_a_400_with_the_reason_and_nothing_is_saved(
    two, client, review, reinduction, field, message
):
    web = web_as(client, two["CB"]["manager"])
    response = post(web, review, reinduction)
    assert response.status_code == 400
    form = response.context["missed"]
    assert field in form.errors
    assert message in " ".join(form.errors[field])
    assert message in response.content.decode()
    assert thresholds(two["CB"]["centre"]) == (3, 5)
    assert entries() == 0


@pytest.mark.parametrize(("review", "reinduction"), [(1, 2), (59, 60), (3, 60), (1, 60)])
def test_boundary_values_are_saved(two, client, review, reinduction):
    response = post(web_as(client, two["CB"]["manager"]), str(review), str(reinduction))
    assert response.status_code == 302
    assert thresholds(two["CB"]["centre"]) == (review, reinduction)


def test_the_reason_is_in_the_users_language(two, client):
    web = web_as(client, two["CB"]["manager"], language="zh-hans")
    response = post(web, "4", "4")
    assert response.status_code == 400
    assert "重新诱导" in " ".join(
        response.context["missed"].errors["reinduction_after_missed_days"]
    )
    assert thresholds(two["CB"]["centre"]) == (3, 5)


@pytest.mark.parametrize("role", ["nurse", "clinician"])
def test_staff_without_the_permission_get_403_and_nothing_changes(two, client, role):
    web = web_as(client, two["CB"][role])
    assert web.get(reverse(URL)).status_code == 403
    assert post(web, "2", "4").status_code == 403
    assert thresholds(two["CB"]["centre"]) == (3, 5)
    with pytest.raises(Forbidden):
        safety_actions.save_missed_dose_thresholds(two["CB"]["centre"], 2, 4, two["CB"][role])
    assert entries() == 0


def test_the_police_get_403(two, client):
    officer = make_user("police", "officer-1")
    web = web_as(client, officer)
    assert web.get(reverse(URL)).status_code == 403
    assert post(web, "2", "4").status_code == 403
    assert thresholds(two["CB"]["centre"]) == (3, 5)


def test_another_centres_manager_cannot_change_them(two, client):
    # On the screen a manager always edits their own current centre, whatever the session
    # asks for.
    web = web_as(client, two["CA"]["manager"])
    session = web.session
    session["pingan_centre"] = two["CB"]["centre"].pk
    session.save()
    assert post(web, "2", "4").status_code == 302
    assert thresholds(two["CA"]["centre"]) == (2, 4)
    assert thresholds(two["CB"]["centre"]) == (3, 5)
    # The action itself refuses a centre the manager is not a member of.
    with pytest.raises(Refusal) as refused:
        safety_actions.save_missed_dose_thresholds(two["CB"]["centre"], 2, 4, two["CA"]["manager"])
    assert refused.value.code == "not_member"
    assert thresholds(two["CB"]["centre"]) == (3, 5)
    assert entries() == 1


def test_the_limits_form_on_the_same_page_still_saves_alone(two, client):
    web = web_as(client, two["CB"]["manager"])
    form = web.get(reverse(URL)).context["form"]
    values = {name: form[name].value() for name in form.fields}
    values["first_dose_max_mg"] = 20
    assert web.post(reverse(URL), values).status_code == 302
    assert thresholds(two["CB"]["centre"]) == (3, 5)
