"""Readable names for the audit log's action codes.

The log stores short codes (they are hashed into the chain and must never change); the
manager reads them as words in her language. A code missing here is shown as itself, so a
new action is never hidden — and tests/audit/test_audit_labels.py fails until it is named.
"""

from __future__ import annotations

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
}


def label(code: str) -> str:
    """The readable name of an action code in the active language; the code itself when
    it has none (an entry written by a newer or older version stays legible)."""
    found = LABELS.get(code)
    return str(found) if found is not None else code


def choices(codes: list[str]) -> list[tuple[str, str]]:
    """(code, label) pairs for a filter, ordered by what the reader sees."""
    return sorted(((code, label(code)) for code in codes), key=lambda pair: pair[1])
