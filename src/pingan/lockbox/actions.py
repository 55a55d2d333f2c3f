"""State changes of the lockbox app, one transaction each, every one on the audit chain."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.audit.log import record
from pingan.core import clock
from pingan.core.domain import acting, require
from pingan.registry.actions import live_consents
from pingan.registry.models import Client, Purpose

from . import pin, rules
from .models import Box, BoxAlert, BoxEvent, HomeGeofence, LockboxSettings

LABEL_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud, typed on boxes


def new_label() -> str:
    """A random box id: printed on the box, used on the wire; random so ids cannot be guessed."""
    return "PA" + "".join(secrets.choice(LABEL_ALPHABET) for _ in range(8))


@dataclass(frozen=True)
class Issued:
    box: Box
    secret: str  # shown once, for provisioning the box; never again


def issue_box(client: Client, user=None, on: date | None = None) -> Issued:
    """Give the client a new box with a fresh secret. One active box per client. Without a
    user only inside an operator's command (`pingan box issue`)."""
    require(user, "manage_boxes")
    on = on or clock.today()
    secret = pin.new_secret()
    with acting(user), transaction.atomic():
        if Box.objects.filter(client=client, retired_on__isnull=True).exists():
            raise ValidationError(
                _("Client %(code)s already has an active box; retire it first.")
                % {"code": client.code}
            )
        for _attempt in range(5):
            try:
                with transaction.atomic():
                    box = Box.objects.create(
                        centre_id=client.centre_id,
                        label=new_label(),
                        client=client,
                        secret=secret,
                        issued_on=on,
                        created_by=user if getattr(user, "is_authenticated", False) else None,
                    )
                break
            except IntegrityError:
                continue
        else:  # pragma: no cover - 31^8 labels; five collisions in a row do not happen
            raise ValidationError(_("Could not choose a box number; try again."))
        record("box_issue", target=f"lockbox.box:{box.external_id}", client_code=client.code)
    return Issued(box, secret)


def retire_box(box: Box, reason: str, user=None, on: date | None = None) -> Box:
    """Take a box out of use (lost, broken, client discharged): its uploads are refused."""
    require(user, "manage_boxes")
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Give a reason for retiring the box."))
    with acting(user), transaction.atomic():
        box = Box.objects.select_for_update().get(pk=box.pk)
        if box.retired_on is not None:
            raise ValidationError(_("This box is already retired."))
        box.retired_on = on or clock.today()
        box.retire_reason = reason[:200]
        box.save(update_fields=["retired_on", "retire_reason"])
        record(
            "box_retire",
            target=f"lockbox.box:{box.external_id}",
            client_code=box.client.code if box.client else "",
            reason=box.retire_reason,
        )
    return box


def set_home_geofence(client: Client, point: str, radius_m: int, user=None) -> HomeGeofence:
    """Record the client's home area; only with a live `box_location` consent."""
    require(user, "manage_boxes")
    if Purpose.BOX_LOCATION not in live_consents(client):
        raise ValidationError(
            _("The client has not consented to box location; the home area cannot be set.")
        )
    try:
        lat, lon = rules.parse_point(point)
    except ValueError as exc:
        raise ValidationError(
            _("Write the centre as latitude,longitude, e.g. 22.5431,114.0579.")
        ) from exc
    if not 50 <= radius_m <= 50000:
        raise ValidationError(_("The radius must be between 50 and 50,000 metres."))
    with acting(user), transaction.atomic():
        fence, _created = HomeGeofence.objects.update_or_create(
            client=client, defaults={"centre": f"{lat:.6f},{lon:.6f}", "radius_m": radius_m}
        )
        record(
            "geofence_set",
            target=f"lockbox.homegeofence:{fence.external_id}",
            client_code=client.code,
        )
    return fence


def update_settings(sms_hour: int, retention_days: int, user=None) -> LockboxSettings:
    require(user, "manage_boxes", "manage_messaging")
    with acting(user), transaction.atomic():
        row = LockboxSettings.current()
        row.sms_hour, row.location_retention_days = sms_hour, retention_days
        row.full_clean()
        row.save()
        record("lockbox_settings", sms_hour=sms_hour, location_retention_days=retention_days)
        purge_raw_locations()
    return row


def acknowledge_alert(alert: BoxAlert, user, note: str = "") -> BoxAlert:
    require(user, "view_box_alerts")
    with acting(user), transaction.atomic():
        alert = BoxAlert.objects.select_for_update().get(pk=alert.pk)
        if alert.acknowledged_at is None:
            alert.acknowledged_at = clock.now()
            alert.acknowledged_by = user
            alert.note = note.strip()[:200]
            alert.save(update_fields=["acknowledged_at", "acknowledged_by", "note"])
    return alert


def purge_raw_locations(now: datetime | None = None) -> int:
    """Blank raw coordinates older than the centre's retention period (all of them at 0)."""
    days = LockboxSettings.current().location_retention_days
    cutoff = (now or clock.now()) - timedelta(days=days)
    stale = BoxEvent.objects.filter(at__lt=cutoff) if days else BoxEvent.objects.all()
    return stale.exclude(raw_location="").update(raw_location="")


# --- box uploads (POST /api/lockbox/events) -------------------------------------------

UNAUTHORISED = {"detail": "bad signature or unknown box"}
_DECOY_KEY = secrets.token_bytes(32)


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict


def _signature_ok(box: Box | None, body: bytes, signature: str) -> bool:
    """Constant-time check; an unknown box costs the same work as a known one. Compared as
    bytes: a header may carry any characters, and compare_digest refuses non-ASCII text."""
    key = pin.event_key(box.secret) if box is not None else _DECOY_KEY
    expected = hmac.new(key, body, hashlib.sha256).hexdigest().encode("ascii")
    given = signature.encode("utf-8", "surrogatepass")
    return hmac.compare_digest(expected, given) and box is not None


def receive_upload(body: bytes, signature: str | None) -> Answer:
    """Check and store one signed upload; nothing is written unless the answer is 202."""
    if len(body) > rules.MAX_BODY:
        return Answer(413, {"detail": "body larger than 64 KiB"})
    try:
        data = rules.envelope(body)
    except rules.Malformed as exc:
        return Answer(400, {"detail": str(exc)})
    box = Box.objects.filter(label=data["box"], retired_on__isnull=True).first()
    if not _signature_ok(box, body, (signature or "").strip()):
        return Answer(401, UNAUTHORISED)
    try:
        upload = rules.parse_upload(data, clock.now())
    except rules.Malformed as exc:
        return Answer(400, {"detail": str(exc)})
    with transaction.atomic():
        box = Box.objects.select_for_update().get(pk=box.pk)
        if upload.seq <= box.last_seq:
            return Answer(409, {"detail": "seq already used", "last_seq": box.last_seq})
        _store(box, upload)
        box.last_seq = upload.seq
        box.save(update_fields=["last_seq"])
    return Answer(202, {"accepted": len(upload.events)})


def _store(box: Box, upload: rules.Upload) -> None:
    client = box.client
    consents = live_consents(client) if client else set()
    located = Purpose.BOX_LOCATION in consents
    fence = HomeGeofence.objects.filter(client=client).first() if located and client else None
    retention = LockboxSettings.current().location_retention_days
    days = {timezone.localdate(e.at) for e in upload.events}
    # Take-home bottles live in `takehome`, a layer above this app: the box reads the days
    # its bottles cover through the reverse relation, without importing that app.
    bottle_days = set(box.bottles.filter(day__in=days).values_list("day", flat=True))
    rows, kinds = [], []
    for position, event in enumerate(upload.events):
        inside_home, raw = None, ""
        if event.type == "location":
            if not located:
                continue  # without consent the location is dropped on arrival
            if fence is not None:
                inside_home = rules.inside((event.lat, event.lon), fence.point(), fence.radius_m)
            if retention:
                raw = f"{event.lat:.6f},{event.lon:.6f},{event.accuracy_m:.0f}"
        rows.append(
            BoxEvent(
                box=box,
                seq=upload.seq,
                position=position,
                type=event.type,
                at=event.at,
                battery_percent=event.percent,
                inside_geofence=inside_home,
                raw_location=raw,
            )
        )
        kinds.append(rules.alert_for(event, timezone.localdate(event.at), bottle_days, inside_home))
    saved = BoxEvent.objects.bulk_create(rows)
    for row, kind in zip(saved, kinds, strict=True):
        if kind:
            BoxAlert.objects.create(box=box, event=row, kind=kind, at=row.at)
    record(
        "box_events",
        target=f"lockbox.box:{box.external_id}",
        client_code=client.code if client else "",
        seq=upload.seq,
        types=sorted({r.type for r in rows}),
        count=len(rows),
    )
    if retention:
        purge_raw_locations()
