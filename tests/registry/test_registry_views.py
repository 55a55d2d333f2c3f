"""Registry screens: who sees what, and what each screen refuses."""

from __future__ import annotations

from django.urls import reverse

from pingan.audit.models import AuditEntry
from pingan.core import clock
from pingan.registry import actions
from pingan.registry.actions import IdentityInput
from pingan.registry.models import Client, Consent, Episode, Identity

SECRET_NAME = "Xiang Identity-Secret"


def _client(users, **identity):
    return actions.enrol_client(
        alias="Lao Li",
        sex="M",
        birth_year=1970,
        user=users["clinician"],
        identity=IdentityInput(**identity) if identity else None,
    )


def test_list_search_and_filter(client_as, users):
    a = _client(users)
    b = actions.enrol_client(alias="Xiao Mei", sex="F", birth_year=1988, user=users["clinician"])
    actions.discharge(b, clock.today(), "moved", users["clinician"])
    web = client_as("nurse")
    page = web.get(reverse("registry:list"), {"q": "lao"}).content.decode()
    assert a.code in page and b.code not in page
    page = web.get(reverse("registry:list"), {"status": "discharged"}).content.decode()
    assert b.code in page and a.code not in page
    assert client_as("cdc").get(reverse("registry:list")).status_code == 200


def test_police_reach_no_registry_screen(client_as, users):
    c = _client(users, name=SECRET_NAME)
    web = client_as("police")
    for name in ("registry:list", "registry:enrol"):
        assert web.get(reverse(name)).status_code == 403
    for name in ("registry:detail", "registry:photo"):
        assert web.get(reverse(name, args=[c.external_id])).status_code == 403
    assert web.post(reverse("registry:identity", args=[c.external_id])).status_code == 403
    assert AuditEntry.objects.filter(action="access_denied", username="police1").exists()


def test_detail_never_shows_identity_until_revealed(client_as, users):
    c = _client(users, name=SECRET_NAME)
    web = client_as("clinician")
    page = web.get(reverse("registry:detail", args=[c.external_id])).content.decode()
    assert SECRET_NAME not in page
    assert reverse("registry:identity", args=[c.external_id]) in page
    response = web.post(reverse("registry:identity", args=[c.external_id]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and SECRET_NAME in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    entry = AuditEntry.objects.get(action="identity_read")
    assert (entry.username, entry.role, entry.client_code) == ("clinician1", "clinician", c.code)


def test_nurse_and_cdc_cannot_reveal_identity(client_as, users):
    c = _client(users, name=SECRET_NAME)
    for role in ("nurse", "cdc"):
        web = client_as(role)
        page = web.get(reverse("registry:detail", args=[c.external_id])).content.decode()
        assert SECRET_NAME not in page
        assert reverse("registry:identity", args=[c.external_id]) not in page
        assert web.post(reverse("registry:identity", args=[c.external_id])).status_code == 403
    assert not AuditEntry.objects.filter(action="identity_read").exists()


def test_detail_explains_withheld_consents(client_as, users):
    c = _client(users)
    actions.record_consent(c, "sms", clock.today(), users["clinician"])
    web = client_as("clinician")
    web.post("/i18n/setlang/", {"language": "en"})
    page = web.get(reverse("registry:detail", args=[c.external_id])).content.decode()
    assert "Not disclosed: no consent. The police record check cannot be done" in page
    assert "No text messages are sent" not in page


def test_enrol_form_anonymous_and_with_duplicate_warning(client_as, users):
    web = client_as("clinician")
    response = web.post(reverse("registry:enrol"), {"alias": "New", "sex": "F", "birth_year": 1992})
    assert response.status_code == 302
    new = Client.objects.get(alias="New")
    assert not Identity.objects.filter(client=new).exists()
    assert Episode.objects.filter(client=new, discharged_on__isnull=True).exists()

    data = {
        "alias": "Dup",
        "sex": "M",
        "birth_year": 1949,
        "document_type": "prc_id",
        "national_id": "11010519491231002X",
    }
    assert web.post(reverse("registry:enrol"), data).status_code == 302
    first = Client.objects.get(alias="Dup")
    response = web.post(reverse("registry:enrol"), data)
    assert response.status_code == 200 and first.code in response.content.decode()
    assert Client.objects.filter(alias="Dup").count() == 1
    response = web.post(reverse("registry:enrol"), {**data, "confirm_duplicate": "on"})
    assert response.status_code == 302
    assert Client.objects.filter(alias="Dup").count() == 2


def test_enrol_form_shows_reasons(client_as):
    web = client_as("clinician")
    web.post("/i18n/setlang/", {"language": "en"})
    data = {"alias": "X", "sex": "M", "birth_year": 1980, "national_id": "110105194912310021"}
    response = web.post(reverse("registry:enrol"), {**data, "document_type": "prc_id"})
    assert response.status_code == 200
    assert "check digit" in response.content.decode()
    assert not Client.objects.exists()
    assert client_as("nurse").get(reverse("registry:enrol")).status_code == 403


def test_consent_discharge_and_re_enrol_forms(client_as, users):
    c = _client(users)
    web = client_as("clinician")
    today = clock.today().isoformat()
    web.post(
        reverse("registry:consent_record", args=[c.external_id]),
        {"purpose": "research", "given_on": today},
    )
    assert Consent.objects.filter(client=c, purpose="research", revoked_on__isnull=True).exists()
    web.post(
        reverse("registry:consent_revoke", args=[c.external_id]),
        {"purpose": "research", "revoked_on": today},
    )
    assert not Consent.objects.filter(client=c, revoked_on__isnull=True).exists()
    web.post(reverse("registry:discharge", args=[c.external_id]), {"on": today, "reason": "moved"})
    assert not Episode.objects.filter(client=c, discharged_on__isnull=True).exists()
    response = web.post(
        reverse("registry:discharge", args=[c.external_id]),
        {"on": today, "reason": "moved"},
        follow=True,
    )
    assert response.status_code == 200 and Episode.objects.filter(client=c).count() == 1
    web.post(reverse("registry:re_enrol", args=[c.external_id]), {"on": today})
    assert Episode.objects.filter(client=c, discharged_on__isnull=True).exists()
    assert (
        client_as("nurse")
        .post(reverse("registry:discharge", args=[c.external_id]), {"on": today, "reason": "moved"})
        .status_code
        == 403
    )


def test_identity_edit_and_erase_screens(client_as, users):
    c = _client(users)
    web = client_as("manager")
    response = web.post(
        reverse("registry:identity_edit", args=[c.external_id]),
        {"name": SECRET_NAME, "document_type": "other", "national_id": "E1234567", "phone": ""},
    )
    assert response.status_code == 302
    assert Identity.objects.get(client=c).national_id == "E1234567"
    page = web.get(reverse("registry:identity_edit", args=[c.external_id]))
    assert SECRET_NAME in page.content.decode() and "no-store" in page["Cache-Control"]
    web.post(reverse("registry:identity_erase", args=[c.external_id]), {"reason": "asked"})
    assert not Identity.objects.filter(client=c).exists()
    assert (
        client_as("nurse").get(reverse("registry:identity_edit", args=[c.external_id])).status_code
        == 403
    )


def test_photo_upload_and_authenticated_serving(client_as, users):
    from django.core.files.uploadedfile import SimpleUploadedFile

    c = _client(users)
    jpeg = b"\xff\xd8\xff\xe0" + b"jpegdata"
    web = client_as("clinician")
    web.post(
        reverse("registry:photo_upload", args=[c.external_id]),
        {"photo": SimpleUploadedFile("face.png", jpeg, content_type="image/png")},
    )
    response = client_as("nurse").get(reverse("registry:photo", args=[c.external_id]))
    assert response.status_code == 200 and response.content == jpeg
    assert response["Content-Type"] == "image/jpeg" and "no-store" in response["Cache-Control"]
    web.post(
        reverse("registry:photo_upload", args=[c.external_id]),
        {"photo": SimpleUploadedFile("evil.jpg", b"<script>", content_type="image/jpeg")},
    )
    c.refresh_from_db()
    assert actions.photo_bytes(c)[1] == jpeg
    assert client_as("cdc").get(reverse("registry:photo", args=[c.external_id])).status_code == 403


def test_pages_render_in_chinese_by_default(client_as, users):
    c = _client(users)
    page = client_as("clinician").get(reverse("registry:detail", args=[c.external_id]))
    text = page.content.decode()
    assert "知情同意" in text and "不披露：未获同意" in text


def test_optional_url_is_empty_for_unregistered_names(users):
    from pingan.registry.templatetags.registry_tags import optional_url

    c = _client(users)
    nurse, police = {"user": users["nurse"]}, {"user": users["police"]}
    assert optional_url(nurse, "no_such_app:client", c.external_id) == ""
    assert optional_url(nurse, "registry:detail", c.external_id).endswith(f"{c.external_id}/")
    # A screen the signed-in user may not open is not linked either.
    assert optional_url(police, "registry:detail", c.external_id) == ""
