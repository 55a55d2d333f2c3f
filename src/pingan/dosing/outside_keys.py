"""The key list of the centres outside this installation: the public keys this installation
trusts to have signed a guest slip or a dose return that arrives as a file.

Another region publishes its centres' keys as `{"C01": ["<64 hex>", ...], ...}`
(docs/region.md, "The key list"); `import_key_list` stores them, `add_key` stores one,
`remove_key` stops trusting one (a key that centre retired or that leaked). A
code of one of this installation's own centres is refused: its slips never travel as
files, and a listed key for it would let an outside file speak for it.
"""

from __future__ import annotations

import json

from django.db import transaction
from django.utils.translation import gettext as _

from pingan.audit.log import record
from pingan.core import clock
from pingan.core.domain import Refusal, acting, current_actor, require
from pingan.core.models import Centre
from pingan.region import signed

from .models import OutsideCentreKey

CODE_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")


def key_list() -> signed.KeyList:
    """Every stored key, by centre code, as `region.signed` reads it."""
    listing: dict[str, list[str]] = {}
    for code, text in OutsideCentreKey.objects.order_by("centre_code", "pk").values_list(
        "centre_code", "public_key_hex"
    ):
        listing.setdefault(code, []).append(text)
    return signed.KeyList.from_hex(listing)


def is_listed(code: str) -> bool:
    return OutsideCentreKey.objects.filter(centre_code=code).exists()


def _clean(code: str, text: str) -> tuple[str, str, str]:
    """(code, public key hex, key id), or a refusal naming what is wrong."""
    code = (code or "").strip()
    if not code or len(code) > 20 or not set(code) <= CODE_CHARS:
        raise Refusal(
            _("A centre code is 1 to 20 capital letters, digits or hyphens, like C01."),
            code="bad_code",
        )
    if Centre.objects.filter(code=code).exists():
        raise Refusal(
            _("%(code)s is a centre of this installation: its key is not listed.") % {"code": code},
            code="own_centre",
        )
    text = (text or "").strip().lower()
    key = signed.KeyList.from_hex({code: [text]}).keys[code][0]
    return code, text, signed.key_id(key)


def _store(code: str, name: str, text: str, kid: str) -> OutsideCentreKey | None:
    if OutsideCentreKey.objects.filter(centre_code=code, public_key_hex=text).exists():
        return None
    row = OutsideCentreKey.objects.create(
        centre_code=code,
        centre_name=name[:120],
        public_key_hex=text,
        key_id=kid,
        added_at=clock.now(),
        added_by=current_actor().username[:150],
    )
    # The key list is the installation's, not one centre's: the region's chain.
    record("guest_key_added", target=code, centre=None, name=row.centre_name, key_id=kid)
    return row


def add_key(code: str, name: str, key_hex: str, by=None) -> OutsideCentreKey:
    """Trust one more key of a centre outside the installation (refused when listed)."""
    require(by, "manage_staff")
    name = (name or "").strip()
    if not name:
        raise Refusal(_("A centre needs a name."), code="no_name")
    code, text, kid = _clean(code, key_hex)
    with acting(by), transaction.atomic():
        row = _store(code, name, text, kid)
        if row is None:
            raise Refusal(
                _("This key is already listed for centre %(code)s.") % {"code": code},
                code="duplicate",
            )
    return row


def import_key_list(data: bytes, by=None) -> list[OutsideCentreKey]:
    """Store the keys of a published key list; those already listed are skipped. The whole
    list is refused, nothing stored, when one entry is malformed or names an own centre."""
    require(by, "manage_staff")
    try:
        listing = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        listing = None
    if not isinstance(listing, dict) or not all(
        isinstance(texts, list) and all(isinstance(t, str) for t in texts)
        for texts in listing.values()
    ):
        raise Refusal(
            _('A key list is JSON: {"C01": ["<64 hex digits>", ...], ...}.'), code="key_list"
        )
    cleaned = [_clean(code, text) for code, texts in sorted(listing.items()) for text in texts]
    names = dict(OutsideCentreKey.objects.values_list("centre_code", "centre_name"))
    added = []
    with acting(by), transaction.atomic():
        for code, text, kid in cleaned:
            row = _store(code, names.get(code, code), text, kid)
            if row is not None:
                added.append(row)
    return added


def remove_key(code: str, key_id: str, by=None) -> OutsideCentreKey:
    """Stop trusting one key of a centre outside the installation: after that centre has
    rotated a key, or when a key has leaked. Slips and dose returns signed with it are then
    refused as signed by an unknown key; those already imported stay as they were."""
    require(by, "manage_staff")
    code, key_id = (code or "").strip(), (key_id or "").strip().lower()
    with acting(by), transaction.atomic():
        row = (
            OutsideCentreKey.objects.select_for_update()
            .filter(centre_code=code, key_id=key_id)
            .first()
        )
        if row is None:
            raise Refusal(
                _("No key %(key_id)s is listed for centre %(code)s.")
                % {"key_id": key_id, "code": code},
                code="not_listed",
            )
        row.delete()
        record("guest_key_removed", target=code, centre=None, key_id=key_id)
    return row
