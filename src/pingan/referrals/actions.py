"""State changes of referrals: one transaction each, each with its audit entry.

The audit never carries the person's name or phone (they are identity); it names the
referral by its external id and, once linked, the client by code."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from pingan.audit.log import record
from pingan.core import clock
from pingan.core.crypto import keyring
from pingan.core.domain import acting, require
from pingan.region.stations import station_of
from pingan.registry.actions import IdentityInput, enrol_client
from pingan.registry.models import Client

from . import rules
from .models import (
    CareKind,
    CareReferral,
    ContactAttempt,
    ContactMethod,
    Partner,
    PoliceReferral,
    ReferralStatus,
)


def _target(obj) -> str:
    return f"referrals.{obj._meta.model_name}:{obj.external_id}"


def name_index(name: str) -> str:
    normalised = rules.normalise_name(name)
    return keyring().hmac_index("referral-name:" + normalised) if normalised else ""


def contact_index(e164: str) -> str:
    return keyring().hmac_index("referral-phone:" + e164) if e164 else ""


def file_referral(
    *,
    officer,
    referred_on: date | None,
    station: str,
    person_name: str,
    person_contact: str,
    reason: str,
    centre=None,
) -> PoliceReferral:
    """An officer sends a person to `centre` (the installation's when not given) instead of
    to detention."""
    require(officer, "file_referral")
    today = clock.today()
    # An officer posted to a station files from it, whatever the form said.
    posted = station_of(officer)
    if posted is not None:
        station = posted.name
    errors = rules.check_referral_input(
        referred_on, station, person_name, person_contact, reason, today
    )
    if errors:
        raise ValidationError(errors)
    phone = rules.check_phone(person_contact).value
    with acting(officer), transaction.atomic():
        referral = PoliceReferral.objects.create(
            **({"centre": centre} if centre is not None else {}),
            referred_on=referred_on,
            station=station.strip(),
            police_station=posted,
            officer=officer,
            person_name=person_name.strip(),
            person_contact=phone,
            name_index=name_index(person_name),
            contact_index=contact_index(phone),
            reason=reason.strip(),
            created_by=officer,
        )
        record("referral_filed", target=_target(referral), referred_on=referred_on.isoformat())
    return referral


def read_referral(referral: PoliceReferral, user, purpose: str) -> None:
    """Showing the person's name and phone is an identity read: audited like the vault."""
    require(user, "manage_referrals")
    with acting(user), transaction.atomic():
        record(
            "referral_identity_read",
            target=_target(referral),
            client_code=referral.client.code if referral.client_id else "",
            purpose=purpose,
        )


def _locked(referral: PoliceReferral) -> PoliceReferral:
    return PoliceReferral.objects.select_for_update().get(pk=referral.pk)


def record_contact(
    referral: PoliceReferral, *, on: date, method: str, reached: bool, note: str, user
) -> ContactAttempt:
    require(user, "manage_referrals")
    check = rules.check_contact_date(on, referral.referred_on, clock.today())
    if not check.passed:
        raise ValidationError({"on": check.reason})
    if method not in ContactMethod.values:
        raise ValidationError({"method": _("Choose how the person was contacted.")})
    with acting(user), transaction.atomic():
        current = _locked(referral)
        attempt = ContactAttempt.objects.create(
            referral=current,
            on=on,
            method=method,
            reached=reached,
            note=note[:300],
            created_by=user,
        )
        if current.status == ReferralStatus.INBOX:
            current.status = ReferralStatus.CONTACTED
            current.save(update_fields=["status"])
        record(
            "referral_contact",
            target=_target(current),
            on=on.isoformat(),
            method=method,
            reached=reached,
        )
    referral.refresh_from_db()
    return attempt


def record_outcome(referral: PoliceReferral, *, outcome: str, on: date, user) -> PoliceReferral:
    require(user, "manage_referrals")
    with acting(user), transaction.atomic():
        current = _locked(referral)
        check = rules.check_outcome(
            current.status,
            outcome,
            on,
            current.referred_on,
            clock.today(),
            current.client_id is not None,
        )
        if not check.passed:
            raise ValidationError(check.reason)
        current.status = outcome
        current.outcome_on = on
        current.save(update_fields=["status", "outcome_on"])
        record(
            "referral_outcome",
            target=_target(current),
            client_code=current.client.code if current.client_id else "",
            outcome=outcome,
            on=on.isoformat(),
        )
    referral.refresh_from_db()
    return referral


def link_client(referral: PoliceReferral, client: Client, user) -> PoliceReferral:
    """Tie the referral to an existing client record (found by code at the centre)."""
    require(user, "manage_referrals")
    if client.centre_id != referral.centre_id:
        raise ValidationError(_("This client belongs to another centre than the referral."))
    with acting(user), transaction.atomic():
        current = _locked(referral)
        if current.client_id and current.client_id != client.pk:
            raise ValidationError(_("This referral is already linked to another client."))
        current.client = client
        current.save(update_fields=["client"])
        record("referral_linked", target=_target(current), client_code=client.code)
    referral.refresh_from_db()
    return referral


def enrol_from_referral(
    referral: PoliceReferral,
    *,
    alias: str,
    sex: str,
    birth_year: int,
    enrolled_on: date | None,
    copy_identity: bool,
    user,
) -> Client:
    """Enrol the referred person, link the referral and close it as enrolled, all or nothing.
    The name and phone go into the identity vault only when the client agrees (copy_identity)."""
    require(user, "manage_referrals", "enrol_client")
    if referral.status not in (ReferralStatus.INBOX, ReferralStatus.CONTACTED):
        raise ValidationError(_("This referral already has an outcome."))
    if referral.client_id:
        raise ValidationError(_("This referral is already linked to a client."))
    identity = None
    if copy_identity:
        identity = IdentityInput(name=referral.person_name, phone=referral.person_contact)
    with acting(user), transaction.atomic():
        client = enrol_client(
            alias=alias,
            sex=sex,
            birth_year=birth_year,
            enrolled_on=enrolled_on,
            identity=identity,
            user=user,
            centre=referral.centre,
        )
        link_client(referral, client, user)
        record_outcome(
            referral,
            outcome=ReferralStatus.ENROLLED,
            on=max(enrolled_on or clock.today(), referral.referred_on),
            user=user,
        )
    return client


def merge(duplicate: PoliceReferral, into: PoliceReferral, user) -> PoliceReferral:
    """Mark `duplicate` as the same person as `into`; who, when and which are recorded on
    the row and in the audit. The duplicate keeps its own officer and date; the officer's
    feedback then follows the referral it joined."""
    require(user, "manage_referrals")
    with acting(user), transaction.atomic():
        dup = _locked(duplicate)
        target = _locked(into)
        if dup.centre_id != target.centre_id:
            raise ValidationError(_("Referrals sent to two centres are not merged."))
        check = rules.check_merge(
            dup.pk,
            target.pk,
            target.merged_into_id is not None,
            dup.merged_into_id is not None,
            PoliceReferral.objects.filter(merged_into=dup).exists(),
        )
        if not check.passed:
            raise ValidationError(check.reason)
        dup.merged_into = target
        dup.merged_at = clock.now()
        dup.merged_by = user
        dup.save(update_fields=["merged_into", "merged_at", "merged_by"])
        if target.client_id is None and dup.client_id is not None:
            target.client = dup.client
            target.save(update_fields=["client"])
        record(
            "referral_merged",
            target=_target(dup),
            into=str(target.external_id),
            client_code=target.client.code if target.client_id else "",
        )
    duplicate.refresh_from_db()
    return duplicate


def add_partner(*, name: str, kind: str, contact: str, user) -> Partner:
    require(user, "manage_care_referrals")
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = _("Enter the organisation's name.")
    elif Partner.objects.filter(name__iexact=name.strip()).exists():
        errors["name"] = _("This organisation is already on the list.")
    if kind not in CareKind.values:
        errors["kind"] = _("Choose a kind of care.")
    if errors:
        raise ValidationError(errors)
    with acting(user), transaction.atomic():
        partner = Partner.objects.create(
            name=name.strip(), kind=kind, contact=contact.strip()[:200], created_by=user
        )
        record("partner_added", target=_target(partner), kind=kind)
    return partner


def send_care_referral(
    client: Client,
    *,
    kind: str,
    partner: Partner,
    sent_on: date,
    due_by: date | None = None,
    notes: str = "",
    user,
) -> CareReferral:
    """Refer a client on to care; without a due date, the kind's default interval applies."""
    require(user, "manage_care_referrals")
    errors = rules.check_care_dates(sent_on, due_by, clock.today())
    if kind not in CareKind.values:
        errors["kind"] = _("Choose a kind of care.")
    if not partner.active:
        errors["partner"] = _("This organisation is no longer in use.")
    if errors:
        raise ValidationError(errors)
    due = due_by or rules.default_due_by(kind, sent_on)
    with acting(user), transaction.atomic():
        referral = CareReferral.objects.create(
            client=client,
            kind=kind,
            partner=partner,
            sent_on=sent_on,
            due_by=due,
            notes=notes[:500],
            created_by=user,
        )
        record(
            "care_referral_sent",
            target=_target(referral),
            client_code=client.code,
            kind=kind,
            due_by=due.isoformat(),
        )
    return referral


def complete_care_referral(
    referral: CareReferral, *, completed_on: date, outcome: str, notes: str = "", user
) -> CareReferral:
    require(user, "manage_care_referrals")
    with acting(user), transaction.atomic():
        current = CareReferral.objects.select_for_update().get(pk=referral.pk)
        errors = rules.check_completion(
            current.sent_on,
            completed_on,
            outcome,
            clock.today(),
            current.completed_on is not None,
        )
        if errors:
            raise ValidationError(errors)
        current.completed_on = completed_on
        current.outcome = outcome
        if notes.strip():
            current.notes = (
                f"{current.notes} / {notes.strip()}" if current.notes else notes.strip()
            )[:500]
        current.save(update_fields=["completed_on", "outcome", "notes"])
        record(
            "care_referral_completed",
            target=_target(current),
            client_code=current.client.code,
            outcome=outcome,
            on=completed_on.isoformat(),
        )
    referral.refresh_from_db()
    return referral
