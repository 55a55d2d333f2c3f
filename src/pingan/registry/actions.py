"""State changes of the registry: one transaction each, each with its audit entry.

Enrolment never reports anyone to any registry (docs/confidentiality.md): nothing here sends,
exports or queues anything outside this database.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from pingan.audit.log import record
from pingan.core import clock
from pingan.core.crypto import keyring
from pingan.core.domain import Refusal, acting, require, required_reason
from pingan.core.models import Centre
from pingan.region.current import centres_of

from . import rules
from .models import (
    AttemptKind,
    Client,
    Consent,
    DischargeReason,
    DocumentType,
    EnrolmentAttempt,
    Episode,
    Identity,
    Language,
    Purpose,
    Transfer,
)

IDENTITY_FIELDS = ("name", "national_id", "phone", "address")
PHOTO_MAX_BYTES = 2 * 1024 * 1024
_PHOTO_MAGIC = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}


@dataclass
class IdentityInput:
    name: str = ""
    document_type: str = DocumentType.PRC_ID
    national_id: str = ""
    phone: str = ""
    address: str = ""

    def is_empty(self) -> bool:
        return not any(getattr(self, f).strip() for f in IDENTITY_FIELDS)


@dataclass(frozen=True)
class IdentityView:
    """What a permitted reader sees; built only by `read_identity`, which audits the read."""

    name: str
    document_type: str
    national_id: str
    phone: str
    address: str


@dataclass
class CleanIdentity:
    values: dict[str, str] = field(default_factory=dict)
    index: str = ""
    phone_index: str = ""

    @property
    def indexes(self) -> dict[str, str]:
        return {"national_id_index": self.index, "phone_index": self.phone_index}


def generate_client_code() -> str:
    """A random code not yet used by any client."""
    for _attempt in range(50):
        code = rules.random_client_code()
        if not Client.objects.filter(code=code).exists():
            return code
    raise RuntimeError("could not find a free client code")  # 32**6 codes: practically never


def national_id_index(national_id: str) -> str:
    normalised = rules.normalise_national_id(national_id)
    return keyring().hmac_index(normalised) if normalised else ""


def phone_index(phone: str) -> str:
    """The keyed index of a phone number, taken in E.164 form so every way of writing one
    number gives one index ("" for none or for a number that cannot be read)."""
    checked = rules.check_phone(phone or "")
    if not checked.passed or not checked.value:
        return ""
    return keyring().hmac_index("identity-phone:" + checked.value)


def find_duplicates(
    national_id: str, exclude: Client | None = None, centre_id: int | None = None
) -> list[str]:
    """Codes of clients whose national ID matches, found through the blind index only; with
    `centre_id`, that centre's only (another centre's codes are not shown to this one)."""
    index = national_id_index(national_id)
    if not index:
        return []
    rows = Identity.objects.filter(national_id_index=index)
    if centre_id is not None:
        rows = rows.filter(client__centre_id=centre_id)
    if exclude is not None:
        rows = rows.exclude(client=exclude)
    return sorted(rows.values_list("client__code", flat=True))


def treatment_key(index: str, by_phone: str = "") -> tuple[str, str] | None:
    """Which keyed index says whether a person is in treatment at another centre: the
    national ID's when the number is known, and then it alone decides (relatives often share
    a phone), else the phone's (`by_phone`); None when neither is known: no check."""
    if index:
        return "national_id_index", index
    if by_phone:
        return "phone_index", by_phone
    return None


def _in_treatment_outside(centre_id: int):
    """Clients of the other centres of the region with an open episode."""
    return Client.objects.filter(episodes__discharged_on__isnull=True).exclude(centre_id=centre_id)


def treated_elsewhere(index: str, centre_id: int, by_phone: str = "") -> list[Client]:
    """Clients of other centres with an open episode and this national ID's blind index, or,
    for a person without an ID number, this phone number's (`by_phone`): the region-wide
    check reads the indexes only, never anyone's identity (`treatment_key`)."""
    key = treatment_key(index, by_phone)
    if key is None:
        return []
    column, value = key
    return list(
        _in_treatment_outside(centre_id)
        .filter(**{f"identity__{column}": value})
        .select_related("centre")
        .defer("photo")
        .distinct()
        .order_by("centre__code", "code")
    )


def centres_treating(
    keys: Iterable[tuple[str, str]], centre_id: int
) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """`treated_elsewhere` for many people at once (an import), a query per 500 keys: for
    each key of `treatment_key` found, the (name, code) of the other centres treating it."""
    wanted: dict[str, set[str]] = {}
    for column, value in keys:
        wanted.setdefault(column, set()).add(value)
    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for column, values in wanted.items():
        ordered = sorted(values)
        for start in range(0, len(ordered), 500):  # under SQLite's 999 parameters
            rows = (
                _in_treatment_outside(centre_id)
                .filter(**{f"identity__{column}__in": ordered[start : start + 500]})
                .values_list(f"identity__{column}", "centre__name", "centre__code")
                .distinct()
            )
            for value, name, code in rows:
                found.setdefault((column, value), []).append((name, code))
    return found


def _refuse_if_treated_elsewhere(
    index: str, centre: Centre, kind: str, user, by_phone: str = ""
) -> None:
    """Stop a second active enrolment in the region. The refused attempt is audited and a
    notice is left for the centre that treats the person (their own client, this centre's
    name and the date: nothing about the attempt they do not hold already); then the
    refusal names that centre. The notice is committed even though the enrolment is not."""
    others = treated_elsewhere(index, centre.pk, by_phone)
    check = rules.check_not_treated_elsewhere(
        [(c.centre.name, c.centre.code) for c in others], by_phone=not index
    )
    if check.passed:
        return
    now = clock.now()
    with acting(user), transaction.atomic():
        for other in others:
            EnrolmentAttempt.objects.create(
                client=other, attempted_at=centre, kind=kind, at=now, created_by=user
            )
            record(
                "dual_enrolment_blocked",
                target=f"registry.client:{other.external_id}",
                client_code=other.code,
                in_treatment_at=other.centre.code,
                attempted_at=centre.code,
                kind=kind,
            )
    raise Refusal(check.reason, code="treated_elsewhere")


def clean_identity(data: IdentityInput) -> CleanIdentity:
    """Validate and normalise; raises ValidationError keyed by field so forms can show it."""
    errors: dict[str, str] = {}
    values = {
        "name": data.name.strip(),
        "address": data.address.strip(),
        "document_type": data.document_type or DocumentType.PRC_ID,
    }
    if values["document_type"] not in DocumentType.values:
        errors["document_type"] = _("Choose a document type.")
    national_id = ""
    if data.national_id.strip():
        check = rules.check_national_id(data.national_id, values["document_type"])
        if check.passed:
            national_id = check.value
        else:
            errors["national_id"] = check.reason
    values["national_id"] = national_id
    phone = rules.check_phone(data.phone)
    if phone.passed:
        values["phone"] = phone.value
    else:
        errors["phone"] = phone.reason
    if errors:
        raise ValidationError(errors)
    index = keyring().hmac_index(national_id) if national_id else ""
    return CleanIdentity(values=values, index=index, phone_index=phone_index(values["phone"]))


def _duplicate_error(codes: list[str]) -> ValidationError:
    return ValidationError(
        _("This national ID is already on file for client %(codes)s.")
        % {"codes": ", ".join(codes)},
        code="duplicate",
        params={"codes": codes},
    )


def _refuse_duplicate(codes: list[str], client_code: str, user) -> None:
    """Warn of a possible duplicate: the warning is audited in its own transaction, so the
    entry stays although the enrolment or edit it stops writes nothing."""
    with acting(user), transaction.atomic():
        record("duplicate_warning", client_code=client_code, matches=codes)
    raise _duplicate_error(codes)


def enrol_client(
    *,
    alias: str,
    sex: str,
    birth_year: int,
    user,
    language: str = Language.CHINESE,
    enrolled_on: date | None = None,
    identity: IdentityInput | None = None,
    allow_duplicate: bool = False,
    centre: Centre | None = None,
) -> Client:
    """Enrol a client: anonymous (alias, sex, birth year) unless identity is given. The client
    belongs to `centre` (the screen's current centre; else the installation's centre)."""
    require(user, "enrol_client")
    today = clock.today()
    enrolled_on = enrolled_on or today
    errors: dict[str, str] = {}
    if not alias.strip():
        errors["alias"] = _("Enter an alias the client is called by.")
    year = rules.check_birth_year(int(birth_year), today)
    if not year.passed:
        errors["birth_year"] = year.reason
    if enrolled_on > today:
        errors["enrolled_on"] = _("The enrolment date cannot be in the future.")
    if errors:
        raise ValidationError(errors)
    clean = clean_identity(identity) if identity and not identity.is_empty() else None
    centre = centre or Centre.current()
    if clean and (clean.index or clean.phone_index):
        _refuse_if_treated_elsewhere(
            clean.index, centre, AttemptKind.ENROL, user, clean.phone_index
        )
    if clean and clean.index and not allow_duplicate:
        codes = sorted(
            Identity.objects.filter(
                national_id_index=clean.index, client__centre=centre
            ).values_list("client__code", flat=True)
        )
        if codes:
            _refuse_duplicate(codes, codes[0], user)
    with acting(user), transaction.atomic():
        client = Client.objects.create(
            centre=centre,
            code=generate_client_code(),
            alias=alias.strip(),
            sex=sex,
            birth_year=int(birth_year),
            language=language,
            created_by=user,
        )
        Episode.objects.create(
            client=client, centre=centre, enrolled_on=enrolled_on, created_by=user
        )
        if clean:
            Identity.objects.create(client=client, created_by=user, **clean.indexes, **clean.values)
        record(
            "enrol",
            target=f"registry.client:{client.external_id}",
            client_code=client.code,
            enrolled_on=enrolled_on.isoformat(),
            with_identity=bool(clean),
        )
    return client


def read_identity(client: Client, user) -> IdentityView | None:
    """Decrypt a client's identity for someone allowed to read it; every read is audited,
    including a read that finds nothing on file."""
    require(user, "view_identity")
    with acting(user), transaction.atomic():
        identity = Identity.objects.filter(client=client).first()
        record(
            "identity_read",
            target=f"registry.client:{client.external_id}",
            client_code=client.code,
            on_file=identity is not None,
        )
    if identity is None:
        return None
    return IdentityView(
        name=identity.name,
        document_type=identity.document_type,
        national_id=identity.national_id,
        phone=identity.phone,
        address=identity.address,
    )


def update_identity(
    client: Client, data: IdentityInput, user, allow_duplicate: bool = False
) -> Identity:
    """Add identity to an anonymous client or change it; the audit lists field names only."""
    require(user, "view_identity")
    clean = clean_identity(data)
    in_treatment = Episode.objects.filter(client=client, discharged_on__isnull=True).exists()
    if (clean.index or clean.phone_index) and in_treatment:
        _refuse_if_treated_elsewhere(
            clean.index, client.centre, AttemptKind.IDENTITY, user, clean.phone_index
        )
    if clean.index and not allow_duplicate:
        codes = find_duplicates(
            clean.values["national_id"], exclude=client, centre_id=client.centre_id
        )
        if codes:
            _refuse_duplicate(codes, client.code, user)
    with acting(user), transaction.atomic():
        identity = Identity.objects.select_for_update().filter(client=client).first()
        created = identity is None
        if created:
            identity = Identity(client=client, created_by=user)
        changed = [name for name, value in clean.values.items() if getattr(identity, name) != value]
        for name, value in clean.values.items():
            setattr(identity, name, value)
        identity.national_id_index = clean.index
        identity.phone_index = clean.phone_index
        identity.save()
        record(
            "identity_add" if created else "identity_update",
            target=f"registry.client:{client.external_id}",
            client_code=client.code,
            fields=sorted(changed),
        )
    return identity


def erase_identity(client: Client, user, reason: str = "") -> bool:
    """Remove the vault row: the client carries on anonymously under the same code."""
    require(user, "view_identity")
    with acting(user), transaction.atomic():
        deleted, _counts = Identity.objects.filter(client=client).delete()
        if deleted:
            record(
                "identity_erase",
                target=f"registry.client:{client.external_id}",
                client_code=client.code,
                reason=reason[:200],
            )
    return bool(deleted)


def record_consent(client: Client, purpose: str, given_on: date, user, note: str = "") -> Consent:
    require(user, "manage_consent")
    if purpose not in Purpose.values:
        raise ValidationError({"purpose": _("Choose a purpose.")})
    if given_on > clock.today():
        raise ValidationError({"given_on": _("A consent cannot be dated in the future.")})
    with acting(user), transaction.atomic():
        if Consent.objects.filter(client=client, purpose=purpose, revoked_on__isnull=True).exists():
            raise ValidationError(
                {
                    "purpose": _(
                        "This consent is already given; revoke it first to record a new one."
                    )
                }
            )
        try:
            with transaction.atomic():
                consent = Consent.objects.create(
                    client=client, purpose=purpose, given_on=given_on, note=note, created_by=user
                )
        except IntegrityError as exc:  # a concurrent recording won the race
            raise ValidationError({"purpose": _("This consent is already given.")}) from exc
        record(
            "consent_given",
            target=f"registry.consent:{consent.external_id}",
            client_code=client.code,
            purpose=purpose,
            given_on=given_on.isoformat(),
        )
    return consent


def revoke_consent(client: Client, purpose: str, on: date, user, note: str = "") -> Consent:
    require(user, "manage_consent")
    with acting(user), transaction.atomic():
        consent = (
            Consent.objects.select_for_update()
            .filter(client=client, purpose=purpose, revoked_on__isnull=True)
            .first()
        )
        if consent is None:
            raise ValidationError(_("There is no live consent for this purpose to revoke."))
        if on < consent.given_on or on > clock.today():
            raise ValidationError(
                _("The revocation date must be between %(given)s and today.")
                % {"given": consent.given_on.isoformat()}
            )
        consent.revoked_on = on
        consent.revoked_by = user
        if note:
            consent.note = (consent.note + " / " + note)[:200] if consent.note else note[:200]
        consent.save()
        record(
            "consent_revoked",
            target=f"registry.consent:{consent.external_id}",
            client_code=client.code,
            purpose=purpose,
            revoked_on=on.isoformat(),
        )
    return consent


def live_consents(client: Client) -> set[str]:
    """Purposes the client currently consents to (others read this before disclosing)."""
    return set(
        Consent.objects.filter(client=client, revoked_on__isnull=True).values_list(
            "purpose", flat=True
        )
    )


def discharge(client: Client, on: date, reason: str, user, note: str = "") -> Episode:
    """Close the open episode. Dosing holds are left to the dosing app, which reads episodes."""
    require(user, "enrol_client")
    with acting(user), transaction.atomic():
        Client.objects.select_for_update().filter(pk=client.pk).first()
        episode = Episode.objects.filter(client=client, discharged_on__isnull=True).first()
        check = rules.check_discharge(episode.enrolled_on if episode else None, on, clock.today())
        if not check.passed:
            raise ValidationError(check.reason)
        if reason not in DischargeReason.values:
            raise ValidationError({"reason": _("Choose a discharge reason.")})
        episode.discharged_on = on
        episode.discharge_reason = reason
        episode.discharge_note = note[:300]
        episode.save()
        record(
            "discharge",
            target=f"registry.episode:{episode.external_id}",
            client_code=client.code,
            on=on.isoformat(),
            reason=reason,
        )
    return episode


def re_enrol(client: Client, on: date, user) -> Episode:
    """Open a new episode after a discharge (day of treatment counts from here again)."""
    require(user, "enrol_client")
    index, by_phone = (
        Identity.objects.filter(client=client)
        .values_list("national_id_index", "phone_index")
        .first()
    ) or ("", "")
    if index or by_phone:
        _refuse_if_treated_elsewhere(index, client.centre, AttemptKind.RE_ENROL, user, by_phone)
    with acting(user), transaction.atomic():
        Client.objects.select_for_update().filter(pk=client.pk).first()
        episodes = Episode.objects.filter(client=client)
        has_open = episodes.filter(discharged_on__isnull=True).exists()
        last = episodes.exclude(discharged_on__isnull=True).order_by("-discharged_on").first()
        check = rules.check_re_enrol(
            has_open, last.discharged_on if last else None, on, clock.today()
        )
        if not check.passed:
            raise ValidationError(check.reason)
        try:
            with transaction.atomic():
                episode = Episode.objects.create(
                    client=client, centre_id=client.centre_id, enrolled_on=on, created_by=user
                )
        except IntegrityError as exc:
            raise ValidationError(_("This client is already in treatment.")) from exc
        record(
            "re_enrol",
            target=f"registry.episode:{episode.external_id}",
            client_code=client.code,
            on=on.isoformat(),
        )
    return episode


def photo_type(data: bytes) -> str | None:
    """The image type by its first bytes, whatever the file name or browser claims."""
    for magic, mime in _PHOTO_MAGIC.items():
        if data.startswith(magic):
            return mime
    return None


def set_photo(client: Client, data: bytes, user) -> None:
    require(user, "enrol_client")
    if len(data) > PHOTO_MAX_BYTES:
        raise ValidationError(_("The photo is larger than 2 MB."))
    mime = photo_type(data)
    if mime is None:
        raise ValidationError(_("The photo must be a JPEG or PNG image."))
    with acting(user), transaction.atomic():
        client.photo = f"{mime};{base64.b64encode(data).decode('ascii')}"
        client.save(update_fields=["photo"])
        record("photo_set", target=f"registry.client:{client.external_id}", client_code=client.code)


def photo_bytes(client: Client) -> tuple[str, bytes] | None:
    if not client.photo:
        return None
    mime, _sep, encoded = client.photo.partition(";")
    return mime, base64.b64decode(encoded)


def _transfer_facts(client: Client, to_centre: Centre, consent_on: date | None, today: date):
    """What `rules.check_transfer` decides on. Guest slips, lockboxes and take-home bottles
    belong to apps above this one: they are read through the reverse relations of their
    foreign keys to the client (`guest_slips`, `boxes`, `bottles`), without importing those
    apps."""
    return rules.TransferFacts(
        consent_on=consent_on,
        today=today,
        from_centre_id=client.centre_id,
        to_centre_id=to_centre.pk,
        has_open_episode=client.episodes.filter(discharged_on__isnull=True).exists(),
        guest_slips=client.guest_slips.filter(
            cancelled_at__isnull=True, valid_to__gte=today
        ).count(),
        boxes=tuple(
            client.boxes.filter(retired_on__isnull=True)
            .order_by("label")
            .values_list("label", flat=True)
        ),
        # "dispensed" is `takehome.BottleStatus.DISPENSED`: a bottle handed out and neither
        # returned nor written off as missing.
        bottles_out=client.bottles.filter(status="dispensed").count(),
        code_taken=Client.objects.filter(centre=to_centre, code=client.code)
        .exclude(pk=client.pk)
        .exists(),
    )


def transfer_client(
    client: Client, to_centre: Centre, consent_on: date | None, reason: str, by
) -> Transfer:
    """Move a client for good to another centre of the region, with their consent
    (`consent_on`, the day it was recorded; None when there is none). In one transaction:
    the open episode at the old centre is closed today (discharge reason "transferred"),
    one at the new centre opens today, the client becomes the new centre's, the transfer is
    recorded and audited out and in. Everything else on the client's record (doses, holds,
    prescriptions, history) follows them. Refused, with nothing written, by a user who is
    not a clinician of the client's centre and for each reason of `rules.check_transfer`."""
    require(by, "prescribe")
    reason = required_reason(reason)
    if not isinstance(to_centre, Centre) or to_centre.pk is None:
        raise Refusal(_("Choose a centre of the region."), code="to_centre")
    today = clock.today()
    with acting(by), transaction.atomic():
        # The client's row is locked and read again: two transfers (or a transfer and an
        # enrolment elsewhere) of the same client cannot interleave.
        locked = Client.objects.select_for_update().defer("photo").get(pk=client.pk)
        from_centre = Centre.objects.get(pk=locked.centre_id)
        if from_centre.pk not in {c.pk for c in centres_of(by)}:
            raise Refusal(
                _("Only a clinician of the client's own centre transfers the client."),
                code="not_member",
            )
        check = rules.check_transfer(_transfer_facts(locked, to_centre, consent_on, today))
        if not check.passed:
            raise Refusal(check.reason, code=check.code)
        episode = Episode.objects.get(client=locked, discharged_on__isnull=True)
        episode.discharged_on = today
        episode.discharge_reason = DischargeReason.TRANSFERRED
        episode.discharge_note = f"{to_centre.code}: {reason}"[:300]
        episode.save(update_fields=["discharged_on", "discharge_reason", "discharge_note"])
        Episode.objects.create(client=locked, centre=to_centre, enrolled_on=today, created_by=by)
        locked.centre = to_centre
        locked.save(update_fields=["centre"])
        transfer = Transfer.objects.create(
            client=locked,
            from_centre=from_centre,
            to_centre=to_centre,
            consent_recorded_on=consent_on,
            reason=reason,
            by=by,
            at=clock.now(),
            created_by=by,
        )
        detail = {
            "target": f"registry.transfer:{transfer.external_id}",
            "client_code": locked.code,
            "from_centre": from_centre.code,
            "to_centre": to_centre.code,
            "consent_recorded_on": consent_on.isoformat(),
        }
        # One entry in each centre's audit chain, for its side of the move.
        record("client_transferred_out", centre=from_centre, **detail)
        record("client_transferred_in", centre=to_centre, **detail)
    client.centre = to_centre
    return transfer
