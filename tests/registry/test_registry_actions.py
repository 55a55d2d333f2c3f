"""Enrolment, identity vault, consents and episodes through the registry actions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from pingan.audit.models import AuditEntry
from pingan.core import clock
from pingan.registry import actions, rules
from pingan.registry.actions import IdentityInput
from pingan.registry.models import Client, Consent, Episode, Identity

VALID_ID = "11010519491231002X"  # the standard's own example number, check digit X


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English; the Chinese is checked on the screens."""
    with translation.override("en"):
        yield


def test_prc_id_check_digit_and_messages():
    assert rules.check_national_id(VALID_ID, "prc_id").passed
    assert rules.check_national_id("110105 1949 1231 002x", "prc_id").value == VALID_ID
    wrong = rules.check_national_id("110105194912310021", "prc_id")
    assert not wrong.passed and "X" in wrong.reason
    short = rules.check_national_id("12345", "prc_id")
    assert not short.passed and "18" in short.reason
    assert not rules.check_national_id("110105194913310021", "prc_id").passed  # month 13
    assert rules.check_national_id("E12345678", "other").passed  # a passport, any format


def test_client_codes_are_unambiguous_and_random():
    codes = {rules.random_client_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert code.startswith("PA") and len(code) == 8
        assert not set(code[2:]) & set("0O1I")


def test_phone_is_normalised_to_e164():
    assert rules.check_phone("139 0000 0001").value == "+8613900000001"
    assert not rules.check_phone("12345").passed
    assert rules.check_phone("").passed


def test_anonymous_enrolment_needs_only_alias_sex_birth_year(users):
    client = actions.enrol_client(
        alias="Lao Wang", sex="M", birth_year=1975, user=users["clinician"]
    )
    assert client.code.startswith("PA")
    assert not Identity.objects.filter(client=client).exists()
    episode = Episode.objects.get(client=client)
    assert episode.is_open and episode.enrolled_on == clock.today()
    enrol = AuditEntry.objects.get(action="enrol")
    assert enrol.client_code == client.code and enrol.username == "clinician1"
    assert enrol.role == "clinician"


def test_enrolment_refuses_bad_input_and_writes_nothing(users):
    with pytest.raises(ValidationError) as exc:
        actions.enrol_client(
            alias="A",
            sex="F",
            birth_year=1980,
            user=users["clinician"],
            identity=IdentityInput(national_id="110105194912310021", phone="123"),
        )
    assert set(exc.value.message_dict) == {"national_id", "phone"}
    assert Client.objects.count() == 0
    with pytest.raises(ValidationError):
        actions.enrol_client(alias=" ", sex="F", birth_year=1850, user=users["clinician"])


def test_duplicate_national_id_shows_existing_code(users):
    first = actions.enrol_client(
        alias="A",
        sex="M",
        birth_year=1949,
        user=users["clinician"],
        identity=IdentityInput(name="Zhang San", national_id=VALID_ID),
    )
    with pytest.raises(ValidationError) as exc:
        actions.enrol_client(
            alias="B",
            sex="M",
            birth_year=1949,
            user=users["clinician"],
            identity=IdentityInput(national_id=VALID_ID.lower()),
        )
    assert first.code in exc.value.messages[0]
    assert Client.objects.count() == 1
    second = actions.enrol_client(
        alias="B",
        sex="M",
        birth_year=1949,
        user=users["clinician"],
        identity=IdentityInput(national_id=VALID_ID),
        allow_duplicate=True,
    )
    assert actions.find_duplicates(VALID_ID, exclude=second) == [first.code]


def test_identity_read_is_audited_and_permission_checked(users):
    client = actions.enrol_client(
        alias="A",
        sex="F",
        birth_year=1990,
        user=users["manager"],
        identity=IdentityInput(name="李小红", national_id=VALID_ID, phone="13900000001"),
    )
    view = actions.read_identity(client, users["manager"])
    assert view.name == "李小红" and view.phone == "+8613900000001"
    read = AuditEntry.objects.get(action="identity_read")
    assert (read.username, read.role, read.client_code) == ("manager1", "manager", client.code)
    for role in ("nurse", "cdc", "police"):
        with pytest.raises(PermissionDenied):
            actions.read_identity(client, users[role])
    assert AuditEntry.objects.filter(action="identity_read").count() == 1


def test_identity_added_later_updated_and_erased(users):
    clin = users["clinician"]
    client = actions.enrol_client(alias="A", sex="X", birth_year=1985, user=clin)
    actions.update_identity(client, IdentityInput(name="Wang Wu"), clin)
    actions.update_identity(client, IdentityInput(name="Wang Wu", phone="13900000002"), clin)
    update = AuditEntry.objects.get(action="identity_update")
    assert update.detail["fields"] == ["phone"]
    assert "13900000002" not in str(update.detail)
    assert actions.erase_identity(client, clin, "client asked")
    assert not Identity.objects.filter(client=client).exists()
    assert Client.objects.filter(pk=client.pk).exists()
    assert AuditEntry.objects.filter(action="identity_erase", client_code=client.code).exists()


def test_consent_record_revoke_and_history(users):
    clin = users["clinician"]
    client = actions.enrol_client(alias="A", sex="M", birth_year=1970, user=clin)
    today = clock.today()
    actions.record_consent(client, "sms", today - timedelta(days=10), clin, "phone ok")
    assert actions.live_consents(client) == {"sms"}
    with pytest.raises(ValidationError):
        actions.record_consent(client, "sms", today, clin)
    with pytest.raises(ValidationError):
        actions.revoke_consent(client, "sms", today - timedelta(days=11), clin)
    actions.revoke_consent(client, "sms", today - timedelta(days=2), clin)
    assert actions.live_consents(client) == set()
    with pytest.raises(ValidationError):
        actions.revoke_consent(client, "sms", today, clin)
    actions.record_consent(client, "sms", today, clin)
    history = Consent.objects.filter(client=client, purpose="sms").order_by("given_on")
    assert [c.revoked_on is None for c in history] == [False, True]
    assert history[0].revoked_by == clin and history[1].created_by == clin
    assert AuditEntry.objects.filter(action="consent_given").count() == 2
    assert AuditEntry.objects.filter(action="consent_revoked").count() == 1


def test_consent_database_allows_one_live_per_purpose(users):
    client = actions.enrol_client(alias="A", sex="M", birth_year=1970, user=users["clinician"])
    Consent.objects.create(client=client, purpose="research", given_on=date(2025, 1, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Consent.objects.create(client=client, purpose="research", given_on=date(2025, 2, 1))


def test_episode_rules(users):
    clin = users["clinician"]
    today = clock.today()
    client = actions.enrol_client(
        alias="A", sex="M", birth_year=1970, user=clin, enrolled_on=today - timedelta(days=30)
    )
    with pytest.raises(ValidationError, match="already in treatment"):
        actions.re_enrol(client, today, clin)
    with pytest.raises(ValidationError, match="before the enrolment"):
        actions.discharge(client, today - timedelta(days=31), "moved", clin)
    actions.discharge(client, today - timedelta(days=5), "dropped_out", clin, "no show")
    with pytest.raises(ValidationError, match="no open treatment episode"):
        actions.discharge(client, today, "moved", clin)
    with pytest.raises(ValidationError, match="before the last discharge"):
        actions.re_enrol(client, today - timedelta(days=6), clin)
    episode = actions.re_enrol(client, today, clin)
    assert episode.is_open
    assert Episode.objects.filter(client=client).count() == 2
    assert AuditEntry.objects.filter(action="discharge", client_code=client.code).exists()
    assert AuditEntry.objects.filter(action="re_enrol", client_code=client.code).exists()


def test_database_allows_one_open_episode(users):
    client = actions.enrol_client(alias="A", sex="M", birth_year=1970, user=users["clinician"])
    with pytest.raises(IntegrityError), transaction.atomic():
        Episode.objects.create(client=client, enrolled_on=clock.today())


def test_photo_validated_by_magic_bytes(users):
    client = actions.enrol_client(alias="A", sex="M", birth_year=1970, user=users["clinician"])
    with pytest.raises(ValidationError, match="JPEG or PNG"):
        actions.set_photo(client, b"GIF89a....", users["clinician"])
    with pytest.raises(ValidationError, match="2 MB"):
        actions.set_photo(client, b"\xff\xd8\xff" + b"0" * (2 * 1024 * 1024), users["clinician"])
    png = b"\x89PNG\r\n\x1a\n" + b"pixels"
    actions.set_photo(client, png, users["clinician"])
    client.refresh_from_db()
    assert actions.photo_bytes(client) == ("image/png", png)
