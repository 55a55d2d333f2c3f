"""What a police officer can reach (docs/confidentiality.md): their own referrals and the feedback the
client allowed, never a clinical field, never another officer's referral, never a hint
whether an id exists."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.translation import gettext, override

from pingan.accounts.roles import perm
from pingan.core import clock
from pingan.referrals import actions
from pingan.referrals.models import PoliceReferral
from pingan.registry.actions import enrol_client, record_consent, revoke_consent

pytestmark = pytest.mark.django_db

CLINICAL_WORDS = re.compile(
    r"\b(mg|doses?|dosing|urine|hiv|hcv|tb|tests?|positive|negative|methadone|address|"
    r"opiates?)\b",
    re.IGNORECASE,
)
# The police start page says what police will NOT see; that sentence names the words.
DISCLAIMERS = (
    "Clinical records, doses, test results, locations and clients who have not consented are "
    "never shown to the police. Attempts to open such pages are refused and recorded.",
    "Perform the record check on a take-home request, seeing only the fields the client "
    "consented to.",
)
CSRF = re.compile(r'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+')


def _text(html: str) -> str:
    text = re.sub(r"<[^>]+>", " ", html)
    for sentence in DISCLAIMERS:
        text = text.replace(gettext(sentence), " ")
    return text


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def _police_routes(user):
    for route, callback in _walk(get_resolver().url_patterns):
        needed = getattr(callback, "required_permissions", None)
        if needed is None:
            continue
        checks = [user.has_perm(perm(c)) for c in needed]
        if not checks or (any(checks) if callback.permissions_any_of else all(checks)):
            yield route


def _file(officer, name="Wang Wu", contact="13800138000", on=None, reason="Found with heroin"):
    return actions.file_referral(
        officer=officer,
        referred_on=on or clock.today() - timedelta(days=20),
        station="Hongta Station",
        person_name=name,
        person_contact=contact,
        reason=reason,
    )


def test_police_reachable_surface_shows_no_clinical_field(client, users, rich_client, rich):
    police = users["police"]
    referral = _file(police, name="Qian the referred")
    actions.link_client(referral, rich_client, users["clinician"])
    actions.record_outcome(
        referral,
        outcome="enrolled",
        on=clock.today() - timedelta(days=15),
        user=users["clinician"],
    )
    client.force_login(police, backend="django.contrib.auth.backends.ModelBackend")
    forbidden_values = [
        rich_client.code,
        rich_client.alias,
        str(rich_client.external_id),
        rich["name"],
        rich["national_id"],
        rich["address"],
        "+86" + rich["phone"],
        rich["phone"],
    ]
    routes = list(_police_routes(police))
    assert any("referrals/police/mine/<uuid" in r for r in routes)
    visited = []
    with override("en"):
        for route in routes:
            url = "/" + re.sub(r"<uuid:[^>]+>", str(referral.external_id), route)
            url = re.sub(r"<(?:\w+:)?\w+>", "x", url)
            response = client.get(url, follow=True)
            assert response.status_code != 500, url
            html = response.content.decode()
            visited.append(url)
            for value in forbidden_values:
                assert value not in html, f"{url} shows {value!r}"
            # The dose is a bare number: looked for as a word of the page's text, since any
            # random id in a link may contain the same digits.
            assert not re.search(rf"\b{rich['mg']}\b", _text(html)), f"{url} shows the dose"
            if url.startswith(("/referrals/", "/accounts/police/", "/police/")) or url == "/":
                found = CLINICAL_WORDS.findall(_text(html))
                assert not found, f"{url} shows clinical words {found}"
    assert "/referrals/police/mine/" in visited and "/police/" in visited
    # The feedback itself is there: the client consented.
    page = client.get(f"/referrals/police/mine/{referral.external_id}/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Enrolled" in page.content.decode() or "已入组" in page.content.decode()


def test_police_get_403_on_every_centre_and_client_url(client, users, rich_client):
    referral = _file(users["police"])
    client.force_login(users["police"], backend="django.contrib.auth.backends.ModelBackend")
    for url in (
        f"/clients/{rich_client.external_id}/",
        f"/referrals/inbox/{referral.external_id}/",
        "/referrals/inbox/",
        f"/referrals/care/client/{rich_client.external_id}/",
        "/referrals/care/overdue/",
        "/services/",
    ):
        assert client.get(url).status_code == 403, url


def _feedback_fragment(html: str) -> str:
    match = re.search(r'<span class="feedback badge"[^>]*>[^<]*</span>', html)
    assert match, html
    return match.group(0)


def _normalised(html: str, referral) -> str:
    """Per-request CSRF tokens and the page's own id (in the language switcher's "next")
    are the only parts allowed to differ."""
    return CSRF.sub(r"\1-", html).replace(str(referral.external_id), "<id>")


def test_feedback_without_consent_is_indistinguishable(client, users):
    police, staff = users["police"], users["clinician"]
    today = clock.today()
    day = today - timedelta(days=20)
    same = dict(name="Li Si", contact="13800138000", on=day)

    untouched = _file(police, **same)

    declined = _file(police, **same)
    actions.record_contact(declined, on=day, method="phone", reached=True, note="", user=staff)
    actions.record_outcome(declined, outcome="declined", on=day, user=staff)

    unreachable = _file(police, **same)
    actions.record_outcome(unreachable, outcome="unreachable", on=day, user=staff)

    no_consent = _file(police, **same)
    enrolled_client = enrol_client(alias="A", sex="M", birth_year=1985, user=staff)
    actions.link_client(no_consent, enrolled_client, staff)
    actions.record_outcome(no_consent, outcome="enrolled", on=today, user=staff)

    revoked = _file(police, **same)
    other = enrol_client(alias="B", sex="F", birth_year=1990, user=staff)
    record_consent(other, "police_referral_feedback", day, staff)
    revoke_consent(other, "police_referral_feedback", today, staff)
    actions.link_client(revoked, other, staff)
    actions.record_outcome(revoked, outcome="enrolled", on=today, user=staff)

    consented_declined = _file(police, **same)
    third = enrol_client(alias="C", sex="M", birth_year=1970, user=staff)
    record_consent(third, "police_referral_feedback", day, staff)
    actions.link_client(consented_declined, third, staff)
    actions.record_outcome(consented_declined, outcome="declined", on=today, user=staff)

    client.force_login(police, backend="django.contrib.auth.backends.ModelBackend")
    hidden = [untouched, declined, unreachable, no_consent, revoked]
    pages = [
        _normalised(client.get(f"/referrals/police/mine/{r.external_id}/").content.decode(), r)
        for r in hidden
    ]
    fragments = {_feedback_fragment(p) for p in pages}
    assert len(fragments) == 1, fragments
    assert len(set(pages)) == 1, "the whole page differs between hidden outcomes"
    assert len({len(p.encode()) for p in pages}) == 1
    # With consent the officer does learn "not enrolled": a different fragment.
    shown = _normalised(
        client.get(f"/referrals/police/mine/{consented_declined.external_id}/").content.decode(),
        consented_declined,
    )
    assert _feedback_fragment(shown) not in fragments

    # In the list, every hidden row's feedback cell is the same bytes.
    listing = client.get("/referrals/police/mine/").content.decode()
    cells = re.findall(r'<span class="feedback badge"[^>]*>[^<]*</span>', listing)
    assert len(cells) == 6
    assert cells.count(fragments.pop()) == 5


def test_officer_cannot_open_or_enumerate_another_officers_referral(client, users, new_user):
    other_officer = new_user("police", "police2")
    theirs = _file(other_officer)
    mine = _file(users["police"])
    client.force_login(users["police"], backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(f"/referrals/police/mine/{mine.external_id}/").status_code == 200
    random_id = client.get(f"/referrals/police/mine/{uuid.uuid4()}/")
    other = client.get(f"/referrals/police/mine/{theirs.external_id}/")
    assert random_id.status_code == other.status_code == 404
    assert random_id.content == other.content
    listing = client.get("/referrals/police/mine/").content.decode()
    assert str(mine.external_id) in listing
    assert str(theirs.external_id) not in listing
    # External ids are random UUIDs, not a sequence.
    assert mine.external_id.version == 4 and theirs.external_id != mine.external_id


def test_police_form_validates_every_field_with_clear_messages(client, users):
    client.force_login(users["police"], backend="django.contrib.auth.backends.ModelBackend")
    tomorrow = clock.today() + timedelta(days=1)
    with override("en"):
        response = client.post(
            "/referrals/police/new/",
            {"referred_on": tomorrow.isoformat(), "person_contact": "12345"},
            HTTP_ACCEPT_LANGUAGE="en",
        )
    assert response.status_code == 400
    form = response.context["form"]
    assert set(form.errors) == {"referred_on", "station", "person_name", "person_contact", "reason"}
    assert PoliceReferral.objects.count() == 0
    zh = client.post(
        "/referrals/police/new/",
        {"referred_on": tomorrow.isoformat()},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert "不能" in zh.content.decode()  # the Chinese message, not the English one


def test_police_file_a_referral_stored_encrypted(client, users):
    client.force_login(users["police"], backend="django.contrib.auth.backends.ModelBackend")
    response = client.post(
        "/referrals/police/new/",
        {
            "referred_on": clock.today().isoformat(),
            "station": "Hongta Station",
            "person_name": "Zhao Liu",
            "person_contact": "139 1234 5678",
            "reason": "Arrested, agrees to see the centre",
        },
    )
    referral = PoliceReferral.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/referrals/police/mine/{referral.external_id}/"
    assert referral.officer == users["police"] and referral.person_contact == "+8613912345678"
    with connection.cursor() as cursor:
        cursor.execute("SELECT person_name, person_contact FROM referrals_policereferral")
        raw = cursor.fetchone()
    assert "Zhao" not in raw[0] and "13912345678" not in raw[1]
