"""One person, one active enrolment in the region: the same national ID cannot be in
treatment at two centres. The check reads the blind index only, names the other centre
(name and code) and nothing of its client, and leaves that centre a notice."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from pingan.audit.models import AuditEntry
from pingan.core.models import Centre
from pingan.imports.loader import ImportRejected, load_directory
from pingan.region.models import Membership
from pingan.registry import actions
from pingan.registry.actions import IdentityInput
from pingan.registry.models import Client, EnrolmentAttempt, Episode, Identity
from staff_factory import make_user

pytestmark = pytest.mark.django_db

ID = "11010519491231002X"
A_IDENTITY = IdentityInput(
    name="欧阳明珠", national_id=ID, phone="13912345678", address="幸福路88号三单元"
)
# Every way A's identity could show on a page (the phone as typed and in E.164).
A_VALUES = ("欧阳明珠", ID, "13912345678", "+8613912345678", "幸福路88号三单元")


@pytest.fixture
def region(clock_at):
    clock_at(datetime(2026, 12, 2, 10, 0))
    a = Centre.objects.create(code="CA", name="Centre A")
    b = Centre.objects.create(code="CB", name="Centre B")
    staff = {}
    for centre in (a, b):
        user = make_user("clinician", f"clin-{centre.code}")
        Membership.objects.create(user=user, centre=centre)
        staff[centre.code] = user
    treated = actions.enrol_client(
        alias="A-alias",
        sex="F",
        birth_year=1949,
        user=staff["CA"],
        identity=A_IDENTITY,
        centre=a,
    )
    return {"a": a, "b": b, "staff": staff, "treated": treated}


def web_as(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


ENROL_B = {
    "alias": "B-alias",
    "sex": "F",
    "birth_year": 1949,
    "document_type": "prc_id",
    "name": "欧阳明珠",
    "national_id": ID,
    "phone": "13912345678",
    "address": "幸福路88号三单元",
}


def test_the_action_refuses_and_names_the_other_centre(region):
    with pytest.raises(ValidationError) as refused:
        actions.enrol_client(
            alias="B",
            sex="F",
            birth_year=1949,
            user=region["staff"]["CB"],
            identity=IdentityInput(national_id=ID.lower()),
            centre=region["b"],
        )
    assert refused.value.code == "treated_elsewhere"
    assert "Centre A (CA)" in refused.value.message
    assert not Client.objects.filter(centre=region["b"]).exists()
    attempt = EnrolmentAttempt.objects.get()
    assert attempt.client == region["treated"] and attempt.attempted_at == region["b"]
    entry = AuditEntry.objects.get(action="dual_enrolment_blocked")
    assert entry.client_code == region["treated"].code
    assert entry.detail["in_treatment_at"] == "CA" and entry.detail["attempted_at"] == "CB"


def test_same_centre_keeps_the_duplicate_warning(region):
    with pytest.raises(ValidationError) as warned:
        actions.enrol_client(
            alias="again",
            sex="F",
            birth_year=1949,
            user=region["staff"]["CA"],
            identity=IdentityInput(national_id=ID),
            centre=region["a"],
        )
    assert warned.value.error_list[0].code == "duplicate"
    assert not EnrolmentAttempt.objects.exists()
    # The warning is audited although the enrolment it stopped wrote nothing.
    entry = AuditEntry.objects.get(action="duplicate_warning")
    assert entry.client_code == region["treated"].code
    assert Client.objects.count() == 1


def test_enrolment_screen_blocks_and_other_centre_is_told(region, client):
    web = web_as(client, region["staff"]["CB"])
    web.post("/i18n/setlang/", {"language": "en"})
    response = web.post(reverse("registry:enrol"), ENROL_B)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Already in treatment at centre Centre A (CA)" in page
    assert not Client.objects.filter(centre=region["b"]).exists()
    # Centre A's staff see the attempt on their client list and on the client's page.
    web_a = web_as(client, region["staff"]["CA"])
    listing = web_a.get(reverse("registry:list")).content.decode()
    assert "Enrolment attempts elsewhere" in listing and "Centre B (CB)" in listing
    assert region["treated"].code in listing
    detail = web_a.get(reverse("registry:detail", args=[region["treated"].external_id]))
    assert "Centre B (CB)" in detail.content.decode()


def test_the_refusal_is_in_the_users_language(region, client):
    web = web_as(client, region["staff"]["CB"])
    web.post("/i18n/setlang/", {"language": "zh-hans"})
    page = web.post(reverse("registry:enrol"), ENROL_B).content.decode()
    assert "已在 Centre A (CA) 中心治疗" in page


def test_no_identity_of_centre_a_on_centre_b_pages(region, client):
    b = region["b"]
    own = Client.objects.create(centre=b, code="PABBBBBB", alias="own", sex="M", birth_year=1980)
    Episode.objects.create(client=own, enrolled_on=date(2026, 11, 1))
    web = web_as(client, region["staff"]["CB"])
    pages = [web.post(reverse("registry:enrol"), ENROL_B)]
    pages.append(web.get(reverse("registry:list")))
    pages.append(web.get(reverse("registry:detail", args=[own.external_id])))
    pages.append(web.get(reverse("registry:enrol")))
    # A's client page is not B's to open.
    assert (
        web.get(reverse("registry:detail", args=[region["treated"].external_id])).status_code == 404
    )
    for response in pages:
        assert response.status_code == 200
        html = response.content.decode()
        for value in A_VALUES + ("A-alias", region["treated"].code):
            assert value not in html, value


def test_after_discharge_elsewhere_enrolment_is_allowed(region, client):
    actions.discharge(region["treated"], date(2026, 12, 2), "moved", region["staff"]["CA"])
    web = web_as(client, region["staff"]["CB"])
    response = web.post(reverse("registry:enrol"), ENROL_B)
    assert response.status_code == 302
    assert Client.objects.filter(centre=region["b"]).count() == 1
    assert not EnrolmentAttempt.objects.exists()


def test_identity_edit_that_would_clash_is_blocked(region, client):
    staff_b = region["staff"]["CB"]
    own = actions.enrol_client(
        alias="own", sex="M", birth_year=1980, user=staff_b, centre=region["b"]
    )
    with pytest.raises(ValidationError) as refused:
        actions.update_identity(own, IdentityInput(national_id=ID), staff_b)
    assert "Centre A (CA)" in refused.value.message
    assert not Identity.objects.filter(client=own).exists()
    web = web_as(client, staff_b)
    web.post("/i18n/setlang/", {"language": "en"})
    response = web.post(
        reverse("registry:identity_edit", args=[own.external_id]),
        {"document_type": "prc_id", "national_id": ID, "name": "x"},
    )
    html = response.content.decode()
    assert response.status_code == 200 and "Centre A (CA)" in html and ID not in html
    assert not Identity.objects.filter(client=own).exists()
    assert EnrolmentAttempt.objects.filter(kind="identity").count() == 2


def test_re_enrolment_is_checked_too(region):
    staff_b = region["staff"]["CB"]
    actions.discharge(region["treated"], date(2026, 12, 2), "moved", region["staff"]["CA"])
    own = actions.enrol_client(
        alias="own",
        sex="F",
        birth_year=1949,
        user=staff_b,
        identity=IdentityInput(national_id=ID),
        centre=region["b"],
    )
    actions.discharge(own, date(2026, 12, 2), "moved", staff_b)
    actions.re_enrol(region["treated"], date(2026, 12, 2), region["staff"]["CA"])
    with pytest.raises(ValidationError):
        actions.re_enrol(own, date(2026, 12, 2), staff_b)
    assert not Episode.objects.filter(client=own, discharged_on__isnull=True).exists()


def test_anonymous_enrolment_says_the_check_could_not_be_made(region, client):
    web = web_as(client, region["staff"]["CB"])
    web.post("/i18n/setlang/", {"language": "en"})
    form = web.get(reverse("registry:enrol")).content.decode()
    assert "without either, this check cannot be made" in form
    response = web.post(
        reverse("registry:enrol"), {"alias": "anon", "sex": "M", "birth_year": 1990}, follow=True
    )
    assert "could not be checked" in response.content.decode()
    assert Client.objects.filter(centre=region["b"], alias="anon").exists()


def test_import_row_of_a_person_treated_elsewhere_is_refused(region, tmp_path: Path):
    (tmp_path / "clients.csv").write_text(
        "code,alias,sex,birth_year,enrolled_on,name,national_id,phone,address\n"
        "C001,ok,M,1975,2025-01-02,,110101197501020011,,\n"
        f"C002,clash,F,1949,2025-02-01,,{ID},,\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportRejected) as rejected:
        load_directory(tmp_path, progress=False, centre=region["b"])
    (error,) = rejected.value.errors
    assert (error.file, error.line, error.column) == ("clients.csv", 3, "national_id")
    assert "Centre A (CA)" in error.reason
    assert not Client.objects.filter(centre=region["b"]).exists()
    # Once centre A has discharged the person, the same import goes through.
    actions.discharge(region["treated"], date(2026, 12, 2), "moved", region["staff"]["CA"])
    load_directory(tmp_path, progress=False, centre=region["b"])
    assert Client.objects.filter(centre=region["b"]).count() == 2


def test_without_an_id_number_the_phone_number_is_checked(region, client):
    """A person enrolled without a document number is looked up by the keyed index of
    their phone (any way of writing it); the refusal says it was the phone."""
    with pytest.raises(ValidationError) as refused, translation.override("en"):
        actions.enrol_client(
            alias="B",
            sex="F",
            birth_year=1949,
            user=region["staff"]["CB"],
            identity=IdentityInput(phone="+86 139 1234 5678"),
            centre=region["b"],
        )
    assert refused.value.code == "treated_elsewhere"
    assert "phone number" in refused.value.message and "Centre A (CA)" in refused.value.message
    assert not Client.objects.filter(centre=region["b"]).exists()
    assert EnrolmentAttempt.objects.filter(client=region["treated"]).count() == 1
    web = web_as(client, region["staff"]["CB"])
    web.post("/i18n/setlang/", {"language": "en"})
    anon = {"alias": "anon", "sex": "M", "birth_year": 1990, "phone": "13800138000"}
    response = web.post(reverse("registry:enrol"), anon, follow=True)
    assert "checked by the phone number only" in response.content.decode()


def test_with_an_id_number_the_phone_alone_does_not_block(region):
    """Relatives share a phone: when the document number is known, it alone decides."""
    other = actions.enrol_client(
        alias="relative",
        sex="M",
        birth_year=1975,
        user=region["staff"]["CB"],
        identity=IdentityInput(national_id="110105197501010018", phone="13912345678"),
        centre=region["b"],
    )
    assert other.centre == region["b"]
    assert Identity.objects.get(client=other).phone_index == (
        Identity.objects.get(client=region["treated"]).phone_index
    )
