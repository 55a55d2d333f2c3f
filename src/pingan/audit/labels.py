"""Readable names for the audit log's action codes.

The log stores short codes (they are hashed into the chain and must never change); the
manager reads them as words in her language. A code missing here is shown as itself, so a
new action is never hidden — and tests/audit/test_audit_labels.py fails until it is named.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

LABELS: dict[str, Promise] = {
    # Written by the row-level capture and the request layer.
    "create": _("Record created"),
    "update": _("Record changed"),
    "delete": _("Record deleted"),
    "access_denied": _("Access refused"),
    # Sign-in and staff accounts.
    "login": _("Signed in"),
    "logout": _("Signed out"),
    "login_failed": _("Sign-in failed"),
    "login_locked_out": _("Sign-in locked out"),
    "login_throttled": _("Sign-in slowed down"),
    "login_second_factor": _("Second factor accepted"),
    "login_second_factor_failed": _("Second factor refused"),
    "password_changed": _("Own password changed"),
    "language_set": _("Language changed"),
    "totp_setup_started": _("Authenticator setup started"),
    "totp_setup_refused": _("Authenticator setup refused"),
    "totp_confirmed": _("Authenticator confirmed"),
    "totp_removed": _("Authenticator removed"),
    "totp_remove_refused": _("Authenticator removal refused"),
    "totp_enrolment_code_issued": _("Authenticator enrolment code issued"),
    "totp_enrolment_code_used": _("Authenticator enrolment code used"),
    "totp_enrolment_code_refused": _("Authenticator enrolment code refused"),
    "staff_created": _("Staff account created"),
    "staff_role_changed": _("Staff role changed"),
    "staff_reactivated": _("Staff account reactivated"),
    "staff_deactivated": _("Staff account deactivated"),
    "staff_totp_required": _("Authenticator requirement changed"),
    "staff_unlocked": _("Staff account unlocked"),
    "staff_password_set": _("Staff password set"),
    # Registry.
    "enrol": _("Client enrolled"),
    "re_enrol": _("Client re-enrolled"),
    "discharge": _("Client discharged"),
    "duplicate_warning": _("Possible duplicate client"),
    "dual_enrolment_blocked": _("Enrolment refused: in treatment at another centre"),
    "identity_read": _("Identity read"),
    "identity_add": _("Identity added"),
    "identity_update": _("Identity changed"),
    "identity_erase": _("Identity erased"),
    "consent_given": _("Consent given"),
    "consent_revoked": _("Consent revoked"),
    "photo_set": _("Photo set"),
    # Dosing and stock.
    "prescribe": _("Dose prescribed"),
    "taper_start": _("Taper started"),
    "taper_cancel": _("Taper cancelled"),
    "dose_record": _("Dose given"),
    "dose_refused": _("Dose refused"),
    "guest_slip_issue": _("Guest slip issued"),
    "guest_slip_cancel": _("Guest slip cancelled"),
    "guest_key_added": _("Key of a centre outside the installation added"),
    "guest_key_removed": _("Key of a centre outside the installation removed"),
    "guest_slip_imported": _("Guest slip from outside the installation imported"),
    "guest_return_written": _("Dose return written"),
    "guest_return_imported": _("Dose return imported"),
    "hold_place": _("Dosing hold placed"),
    "hold_clear": _("Dosing hold cleared"),
    "stock_receive": _("Stock received"),
    "stock_waste": _("Stock wasted"),
    "stock_correct": _("Stock corrected"),
    "stock_takehome": _("Stock out for take-home"),
    "stock_return": _("Stock returned"),
    "stock_reconcile": _("Stock reconciled"),
    "dose_second_part": _("Second part of a split dose given"),
    "ecg_record": _("ECG recorded"),
    "medicine_start": _("Other medicine started"),
    "medicine_stop": _("Other medicine stopped"),
    "pregnancy_set": _("Pregnancy recorded"),
    "pregnancy_end": _("Pregnancy ended"),
    "dosing_limits": _("Dosing limits changed"),
    "missed_dose_thresholds": _("Missed-dose thresholds changed"),
    # Laboratory.
    "urine_sample": _("Urine sample recorded"),
    "urine_schedule": _("Urine tests scheduled"),
    "urine_schedule_done": _("Scheduled urine test done"),
    "infection_test": _("Infection test recorded"),
    # Take-home.
    "standard_draft": _("Take-home standard drafted"),
    "standard_sign": _("Take-home standard signed"),
    "takehome_request": _("Take-home requested"),
    "takehome_decide": _("Take-home decided"),
    "takehome_record_check": _("Police record check recorded"),
    "takehome_dispense": _("Take-home dispensed"),
    "bottle_return": _("Take-home bottles returned"),
    "bottle_missing": _("Take-home bottle missing"),
    "incident_close": _("Take-home incident closed"),
    "centre_closure": _("Centre closure added"),
    "centre_closure_removed": _("Centre closure removed"),
    # Lockboxes and text messages.
    "box_issue": _("Lockbox issued"),
    "box_retire": _("Lockbox retired"),
    "box_events": _("Lockbox events received"),
    "geofence_set": _("Lockbox geofence set"),
    "lockbox_settings": _("Lockbox settings changed"),
    "sms_queue": _("Text messages queued"),
    "sms_retry": _("Text message retried"),
    "sms_send": _("Text message run"),
    "sms_handover": _("Text message handed to the gateway"),
    "sms_reconcile": _("Text messages reconciled with the gateway"),
    "sms_confirm": _("Text message confirmed as sent"),
    "takehome_suspend": _("Take-home suspended"),
    "takehome_suspension_lift": _("Take-home suspension lifted"),
    "methadone_flag_clear": _("Methadone-negative flag cleared"),
    "box_not_opened_check": _("Boxes checked for a bottle day without opening"),
    "outreach_record": _("Outreach recorded"),
    "outreach_settings": _("Drop-out worklist setting changed"),
    "outreach_reminder": _("Reminder text sent to a client who stopped coming"),
    # Bottle recalls.
    "recall_draw": _("Weekly bottle recalls drawn"),
    "recall_make": _("Bottle recall made by hand"),
    "recall_phoned": _("Recalled client phoned"),
    "recall_return": _("Recalled bottles counted back"),
    "recall_missed": _("Bottle recall missed"),
    "appointment_made": _("Appointment set"),
    "appointment_closed": _("Appointment done or cancelled"),
    # Police referrals, care referrals and services.
    "referral_filed": _("Police referral filed"),
    "referral_identity_read": _("Referral identity read"),
    "referral_list_read": _("Referral list read"),
    "referral_contact": _("Referral contact recorded"),
    "referral_outcome": _("Referral outcome recorded"),
    "referral_linked": _("Referral linked to a client"),
    "referral_merged": _("Referrals merged"),
    "partner_added": _("Care partner added"),
    "care_referral_sent": _("Care referral sent"),
    "care_referral_completed": _("Care referral completed"),
    "service_session": _("Service session recorded"),
    "naloxone_kit": _("Naloxone kit handed out"),
    "naloxone_follow_up": _("Naloxone follow-up recorded"),
    # Inpatient detoxification ward.
    "inpatient_admit": _("Inpatient admitted"),
    "inpatient_move": _("Inpatient moved"),
    "inpatient_discharge": _("Inpatient discharged"),
    "inpatient_step_down": _("Inpatient referred to community maintenance"),
    "inpatient_extend": _("Inpatient stay extended"),
    "inpatient_payment": _("Inpatient payment taken"),
    "inpatient_refund": _("Inpatient refund issued"),
    "inpatient_taper": _("Inpatient taper order"),
    "inpatient_dose": _("Inpatient dose given"),
    "inpatient_cows": _("Withdrawal score recorded"),
    "inpatient_care": _("Care note recorded"),
    "inpatient_adjunct": _("Adjunct medication recorded"),
    "inpatient_bed_state": _("Bed state changed"),
    "inpatient_room_added": _("Ward room added"),
    "inpatient_tariff_draft": _("Ward tariff drafted"),
    "inpatient_tariff_published": _("Ward tariff published"),
    "inpatient_tariff_rate": _("Ward tariff rate set"),
    # Indicators.
    "indicators.drilldown": _("Indicator clients viewed"),
    "indicators.export": _("Indicator report exported"),
    # Data exchange.
    "fhir_export": _("FHIR bulk export made"),
    "fhir_export_download": _("FHIR bulk export file downloaded"),
    # Operations.
    "import": _("Legacy records imported"),
    "backup": _("Backup made"),
    "restore": _("Backup restored"),
    "keys_rotation_started": _("Encryption key rotation started"),
    "keys_rotation_interrupted": _("Encryption key rotation interrupted"),
    "keys_rotated": _("Encryption keys rotated"),
    "keys_reindexed": _("Encrypted search index rebuilt"),
    "demo_created": _("Demonstration data created"),
    "demo_inpatient_history": _("Demonstration ward history created"),
    "demo_takehome_bottles": _("Demonstration take-home bottles created"),
    # The region's centres.
    "centre_switch": _("Switched to another centre"),
    "centre_added": _("Centre added"),
    "membership_added": _("Staff member added to a centre"),
    "client_transferred_out": _("Client transferred out to another centre"),
    "client_transferred_in": _("Client transferred in from another centre"),
    "station_added": _("Police station added"),
    "officer_posted": _("Police officer posted to a station"),
    "centre_key_rotated": _("Centre's signing key rotated"),
}


def label(code: str) -> str:
    """The readable name of an action code in the active language; the code itself when
    it has none (an entry written by a newer or older version stays legible)."""
    found = LABELS.get(code)
    return str(found) if found is not None else code


def choices(codes: list[str]) -> list[tuple[str, str]]:
    """(code, label) pairs for a filter, ordered by what the reader sees."""
    return sorted(((code, label(code)) for code in codes), key=lambda pair: pair[1])


# Who wrote an entry when it was not a staff member signed in on a screen.
ACTOR_ROLES: dict[str, Promise] = {
    "command": _("Command line"),
    "operator": _("Operator"),
    "box": _("Lockbox"),
    "gateway": _("Text message gateway"),
}

# The detail fields entries carry, as the manager reads them. A key missing here is shown
# humanised ("due_on" as "Due on"), so a new detail is never hidden.
DETAIL_LABELS: dict[str, Promise] = {
    "after": _("After"),
    "allowed": _("Allowed"),
    "already": _("Already recorded"),
    "amount": _("Amount"),
    "approved": _("Approved"),
    "approved_days": _("Approved days"),
    "asked_types": _("Record types asked for"),
    "attempt": _("Attempt"),
    "attempted_at": _("Tried at centre"),
    "attempts_cleared": _("Failed attempts cleared"),
    "audience": _("Audience"),
    "backend": _("Sending service"),
    "backup_key": _("Backup key"),
    "balance_ml": _("Balance (ml)"),
    "bed": _("Bed"),
    "beds": _("Beds"),
    "before": _("Before"),
    "blocks": _("Reasons refused"),
    "bottles": _("Bottles"),
    "box": _("Lockbox"),
    "boxes": _("Lockboxes"),
    "came_from": _("Came from"),
    "capped": _("Capped"),
    "centres": _("Centres"),
    "changed": _("Changed"),
    "client_code": _("Client code"),
    "clients": _("Clients"),
    "collected_on": _("Collected on"),
    "corrected": _("Corrected"),
    "count": _("Number"),
    "counted_ml": _("Counted (ml)"),
    "counts": _("Counts"),
    "created": _("Created"),
    "credit": _("Credit"),
    "date": _("Date"),
    "day": _("Day"),
    "day_price": _("Price per day"),
    "days": _("Days"),
    "decided_at": _("Decided at"),
    "decided_by": _("Decided by"),
    "cleared_at": _("Cleared at"),
    "cleared_by": _("Cleared by"),
    "closed_at": _("Closed at"),
    "closed_by": _("Closed by"),
    "superseded_at": _("Superseded at"),
    "merged_at": _("Merged at"),
    "merged_by": _("Merged by"),
    "status": _("Status"),
    "station": _("Police station"),
    "days_used": _("Days used"),
    "detected_by": _("Detected by"),
    "doses": _("Doses"),
    "drug": _("Drug"),
    "due_by": _("Due by"),
    "due_on": _("Due on"),
    "effective_from": _("Effective from"),
    "ended_on": _("Ended on"),
    "engine": _("Engine"),
    "enrolled_on": _("Enrolled on"),
    "every_days": _("Every (days)"),
    "expected_ml": _("Expected (ml)"),
    "expired": _("Expired"),
    "expires_at": _("Expires at"),
    "extra": _("Extra"),
    "failed": _("Failed"),
    "fields": _("Fields changed"),
    "file": _("File"),
    "files": _("Files"),
    "format": _("Format"),
    "from_mg": _("From (mg)"),
    "given": _("Given out"),
    "given_on": _("Date given"),
    "in_force_from": _("In force from"),
    "in_treatment_at": _("In treatment at centre"),
    "incident": _("Incident"),
    "induction": _("Induction"),
    "interaction": _("Interaction"),
    "into": _("Merged into"),
    "key": _("Key"),
    "kind": _("Kind"),
    "known_on": _("Known on"),
    "language": _("Language"),
    "location_retention_days": _("Location kept (days)"),
    "matches": _("Matches"),
    "medication": _("Medication"),
    "method": _("Method"),
    "mg": _("Dose (mg)"),
    "missed_days": _("Missed days"),
    "ml": _("Volume (ml)"),
    "name": _("Name given"),
    "new": _("New"),
    "note": _("Note"),
    "old": _("Old"),
    "on": _("On the day"),
    "on_file": _("On file"),
    "opioid_positive": _("Opioid positive"),
    "outcome": _("Outcome"),
    "outcome_note": _("Outcome note"),
    "override_reason": _("Reason for the override"),
    "overrides": _("Overrides"),
    "parts": _("Parts"),
    "passed": _("Passed"),
    "phones_read": _("Phone numbers read"),
    "planned": _("As planned"),
    "previous_mg": _("Previous dose (mg)"),
    "price": _("Price"),
    "product": _("Product"),
    "purpose": _("Purpose"),
    "qtc_ms": _("QTc (ms)"),
    "queued": _("Queued"),
    "reached": _("Reached"),
    "readmission": _("Readmission"),
    "reason": _("Reason"),
    "receipt": _("Receipt"),
    "receipts": _("Receipts"),
    "recorded_on": _("Recorded on"),
    "reduce_mg": _("Reduce by (mg)"),
    "referred_on": _("Referred on"),
    "reindexed": _("Re-indexed"),
    "required": _("Required"),
    "resources": _("Resources"),
    "result": _("Result"),
    "results": _("Results"),
    "retry_later": _("Retry later"),
    "review_on": _("Review on"),
    "revoked_on": _("Revoked on"),
    "rewritten": _("Rewritten"),
    "role": _("Role"),
    "room_type": _("Room type"),
    "rows": _("Rows"),
    "run": _("Run"),
    "sample": _("Sample"),
    "scheduled": _("Scheduled"),
    "scopes": _("Scopes"),
    "score": _("Score"),
    "second_part_home": _("Second part taken home"),
    "seed": _("Seed"),
    "seeded": _("Seeded"),
    "sent": _("Sent"),
    "seq": _("Sequence"),
    "settled": _("Settled"),
    "sha256": _("SHA-256"),
    "since": _("Since"),
    "sms_hour": _("Text message hour"),
    "start_mg": _("Starting dose (mg)"),
    "start_on": _("Starts on"),
    "started_on": _("Started on"),
    "started_seq": _("Started at entry"),
    "state": _("State"),
    "stays": _("Stays"),
    "step_mg": _("Step (mg)"),
    "stopped_on": _("Stopped on"),
    "suspended_for": _("Suspended for"),
    "taper_ended": _("Taper ended"),
    "target": _("Target"),
    "test": _("Test"),
    "tested_on": _("Tested on"),
    "tests": _("Tests"),
    "to": _("Changed to"),
    "to_mg": _("To (mg)"),
    "total": _("Total"),
    "types": _("Record types"),
    "unknown": _("Unknown"),
    "used": _("Used"),
    "variance_ml": _("Difference (ml)"),
    "version": _("Version"),
    "voided": _("Voided"),
    "volume_ml": _("Volume (ml)"),
    "wait_seconds": _("Waited (seconds)"),
    "warnings": _("Warnings"),
    "was": _("Was"),
    "why": _("Why"),
    "with_identity": _("With identity"),
    # A signature of the take-home standard: what the signer was shown before confirming.
    "profile": _("Profile"),
    "seen": _("Shown before signing"),
    "compared_with": _("Compared with version"),
    "more": _("Clients with more days"),
    "fewer": _("Clients with fewer days"),
    "unchanged": _("Clients unchanged"),
}


def humanise(key: str) -> str:
    """ "due_on" as "Due on": a key nobody has named yet, still readable."""
    words = key.replace("_", " ").replace(".", " ").strip()
    return words[:1].upper() + words[1:] if words else key


def actor_role(code: str) -> str:
    """The name of a non-staff writer ("command", "box", …); "" for anything else."""
    found = ACTOR_ROLES.get(code)
    return str(found) if found is not None else ""


def _value(value) -> str:
    if value is True:
        return str(_("yes"))
    if value is False:
        return str(_("no"))
    if value is None or value == "":
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(_value(item) for item in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{detail_label(k)}: {_value(v)}" for k, v in _ordered(value)) or "—"
    if isinstance(value, str):
        known = _choice_labels().get(value)
        if known is not None:
            return str(known)  # a stored choice, e.g. "counselling"
        if _model_of(value) is not None:  # a record, e.g. "dosing.dose:4fc9…"
            return target_label(value)
        # a field or code name inside the text, e.g. ["approved_days"]
        return _CODE.sub(lambda m: humanise(m[0]).lower(), value)
    return str(value)


_CODE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


@lru_cache(maxsize=1)
def _choice_labels() -> dict[str, Promise]:
    """Every stored choice value of the project's models that is a word, with its label:
    details often carry one ("kind": "counselling"). Read from the app registry, so this
    layer names no model of the apps above it."""
    from django.apps import apps

    found: dict[str, Promise] = {}
    for model in apps.get_models():
        if not model.__module__.startswith("pingan."):
            continue
        for field in model._meta.get_fields():
            for value, text in getattr(field, "flatchoices", None) or ():
                if isinstance(value, str) and _WORD.fullmatch(value):
                    found.setdefault(value, text)
    return found


_WORD = re.compile(r"[a-z][a-z0-9_]{2,}")


def _ordered(detail: dict) -> list[tuple[str, object]]:
    """The detail's items in one order on every database: PostgreSQL's jsonb does not keep
    the order keys were written in, SQLite's JSON text does. Known keys come in the order
    of `DETAIL_LABELS`, unknown ones after them by name."""
    rank = {key: index for index, key in enumerate(DETAIL_LABELS)}
    return sorted(detail.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0]))


def detail_label(key: str) -> str:
    found = DETAIL_LABELS.get(key)
    return str(found) if found is not None else humanise(key)


def detail_fields(detail: dict, target: str = "") -> list[tuple[str, str]]:
    """(label, value) pairs of an entry's detail, in the active language, in label order.
    The fields a change touched are named as the changed record's model names them."""
    if not isinstance(detail, dict):
        return [(str(_("Detail")), _value(detail))]
    model = _model_of(target)
    pairs = []
    for key, value in _ordered(detail):
        if key == "fields" and model is not None and isinstance(value, list):
            shown = ", ".join(_field_name(model, name) for name in value) or "—"
        else:
            shown = _value(value)
        pairs.append((detail_label(key), shown))
    return pairs


def _model_of(target: str):
    from django.apps import apps

    model_name, sep, _ident = target.partition(":")
    if not sep or "." not in model_name:
        return None
    try:
        return apps.get_model(model_name)
    except (LookupError, ValueError):
        return None


def _field_name(model, name: str) -> str:
    """The field's own translated name; for a field without one (Django then makes it
    from the attribute name, in English), the detail label of that name."""
    try:
        verbose = model._meta.get_field(name).verbose_name
    except Exception:  # noqa: BLE001 - a field since removed is shown by its name
        verbose = None
    if verbose is not None and str(verbose) != str(name).replace("_", " "):
        return str(verbose)
    return detail_label(str(name)).lower()


# Readers of the targets of actions that name something of an app above this layer (an
# indicator of a drill-down): that layer registers one at start-up, keyed by action code,
# so this one imports nothing from it. A reader returns None when it does not know the target.
TARGET_READERS: dict[str, Callable[[str], str | None]] = {}


def target_label(target: str, action: str = "") -> str:
    """ "registry.client:3f2c…" as the record's kind in the reader's language and the start
    of its id; a target a registered reader knows, as it says; anything else (a URL name, a
    file) with its code words spelled out."""
    reader = TARGET_READERS.get(action)
    shown = reader(target) if reader is not None else None
    if shown:
        return shown
    model = _model_of(target)
    if model is None:
        return _CODE.sub(lambda m: humanise(m[0]).lower(), target)
    return f"{model._meta.verbose_name} {target.partition(':')[2][:8]}".strip()
