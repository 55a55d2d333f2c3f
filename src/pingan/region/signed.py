"""Signed documents that travel between centres: canonical JSON, an Ed25519 signature by
the sending centre's key, and the region's list of centres' public keys.

A guest slip or a dose return may leave the installation (a client dosed at a centre of
another region). The receiving centre has no online link to the sender, so the file must
prove by itself who wrote it and that no byte changed since. The signature covers the
document's *canonical bytes*: JSON with sorted keys, no insignificant white space, UTF-8.
Canonical bytes are computed here, in Python, on both sides, so a reader only needs this
module (or the few lines in docs/region.md) to check a file.

The file on disk is itself JSON::

    {"document": {...}, "key_id": "<16 hex>", "signature": "<base64>"}

`key_id` names the public key in the region's key list (`KeyList`), which maps each
centre's code to the public keys it has published; a key that belongs to another centre
than the document says wrote it is as good as unknown.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.utils.translation import gettext as _

from pingan.core import clock
from pingan.core.domain import Refusal

# Large enough for a slip with its photo; a bigger file is refused before parsing.
MAX_FILE_BYTES = 2_000_000
PUBLIC_KEY_BYTES = 32


def canonical(document: dict) -> bytes:
    """The bytes a signature covers: sorted keys, compact separators, UTF-8."""
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


_CENTRE_KEY_INFO = b"pingan-centre-signing-key/1\n"

# How long a centre keeps publishing a key after rotating it. A slip covers at most 30 days
# (`slips.MAX_SLIP_DAYS`) and is read at the host within them, and the host's dose returns
# for it are signed over the same days: a slip issued just before a rotation, and the
# returns answering one, still verify with a key list published during the next 30 days.
ROTATION_GRACE = timedelta(days=30)


def derive_centre_key(
    installation: Ed25519PrivateKey, centre_code: str, generation: int = 0
) -> Ed25519PrivateKey:
    """The signing key of one generation of a centre's key: an Ed25519 key whose seed is
    HKDF-SHA256 (no salt, 32 bytes) of the installation's 32-byte signing-key seed. The
    HKDF info is `pingan-centre-signing-key/1\n` followed by the centre's code in UTF-8,
    and for a generation n above 0, then `\n` and n in decimal ASCII. Generation 0 is the
    key every centre had before keys could be rotated one by one, so its keys and every
    document signed with them stay valid. A centre code never holds a line break (letters,
    digits and hyphens), so no code and generation give another's info."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    if generation < 0:
        raise ValueError("a key generation is 0 or more")
    seed = installation.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    info = _CENTRE_KEY_INFO + centre_code.encode("utf-8")
    if generation:
        info += b"\n" + str(generation).encode("ascii")
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(seed)
    return Ed25519PrivateKey.from_private_bytes(derived)


def _generations(centre_code: str) -> list[tuple[int, datetime]]:
    """The centre's rotations, newest first: (generation, when it was made). Empty for a
    centre never rotated, or a code that is no centre of the installation."""
    from .models import CentreKeyGeneration

    return list(
        CentreKeyGeneration.objects.filter(centre__code=centre_code)
        .order_by("-generation")
        .values_list("generation", "created_at")
    )


def current_generation(centre_code: str) -> int:
    """The generation of the key the centre signs with now (0 until its first rotation)."""
    found = _generations(centre_code)[:1]
    return found[0][0] if found else 0


def centre_key(installation: Ed25519PrivateKey, centre_code: str) -> Ed25519PrivateKey:
    """The signing key a centre of the installation uses now: the key of its current
    generation (`derive_centre_key`). Each centre thus signs with a key of its own, which
    the region publishes under the centre's code, one centre's key cannot sign for another,
    and only the generation number is stored: the keys follow the installation's key (its
    rotation gives every centre a new one), and a centre's own rotation
    (`region.actions.rotate_centre_key`) changes that centre's key alone."""
    return derive_centre_key(installation, centre_code, current_generation(centre_code))


def published_keys(installation: Ed25519PrivateKey, centre_code: str) -> list[Ed25519PublicKey]:
    """The public keys a centre publishes in the region's key list: its current key first,
    then, newest first, each earlier key retired (its successor made) no more than
    `ROTATION_GRACE` ago, the limit itself included."""
    generations = _generations(centre_code)
    current = generations[0][0] if generations else 0
    keys = [derive_centre_key(installation, centre_code, current).public_key()]
    oldest_shown = clock.now() - ROTATION_GRACE
    # Generation g was retired when generation g + 1 was made.
    for successor, retired_at in generations:
        if retired_at < oldest_shown:
            break
        keys.append(derive_centre_key(installation, centre_code, successor - 1).public_key())
    return keys


def key_id(key: Ed25519PublicKey) -> str:
    """A short, stable name for a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(public_bytes(key)).hexdigest()[:16]


@dataclass(frozen=True)
class KeyList:
    """The public keys each centre of a region has published, by centre code."""

    keys: dict[str, tuple[Ed25519PublicKey, ...]] = field(default_factory=dict)

    @classmethod
    def from_hex(cls, listing: dict[str, list[str]]) -> KeyList:
        """From `{"C01": ["<64 hex>", ...], ...}`, the form a region publishes."""
        keys = {}
        for centre, texts in listing.items():
            parsed = []
            for text in texts:
                try:
                    raw = bytes.fromhex(text.strip())
                except ValueError:
                    raw = b""
                if len(raw) != PUBLIC_KEY_BYTES:
                    raise Refusal(
                        _("The key list has a malformed key for centre %(centre)s.")
                        % {"centre": centre},
                        code="key_list",
                    )
                parsed.append(Ed25519PublicKey.from_public_bytes(raw))
            keys[centre] = tuple(parsed)
        return cls(keys)

    def to_hex(self) -> dict[str, list[str]]:
        return {c: [public_bytes(k).hex() for k in ks] for c, ks in sorted(self.keys.items())}

    def find(self, centre: str, wanted_id: str) -> Ed25519PublicKey | None:
        for key in self.keys.get(centre, ()):
            if key_id(key) == wanted_id:
                return key
        return None


def sign(document: dict, key: Ed25519PrivateKey) -> bytes:
    """The file's bytes: the document, the signing key's id and the signature."""
    signature = key.sign(canonical(document))
    envelope = {
        "document": document,
        "key_id": key_id(key.public_key()),
        "signature": base64.b64encode(signature).decode("ascii"),
    }
    return canonical(envelope) + b"\n"


def _malformed() -> Refusal:
    return Refusal(_("The file is not a signed Ping An document."), code="malformed")


def open_signed(data: bytes, keys: KeyList, signer_field: str) -> dict:
    """The document inside `data` once its signature checks out against the key that
    `document[signer_field]` (a centre code) has published; a `Refusal` naming the reason
    otherwise. Nothing about the document is trusted before this returns."""
    if len(data) > MAX_FILE_BYTES:
        raise Refusal(_("The file is too large to be a signed document."), code="too_large")
    try:
        envelope = json.loads(data.decode("utf-8"))
        document = envelope["document"]
        wanted_id = envelope["key_id"]
        signature = base64.b64decode(envelope["signature"], validate=True)
        signer = document[signer_field]
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, binascii.Error):
        raise _malformed() from None
    if not isinstance(document, dict) or not isinstance(signer, str):
        raise _malformed()
    if not isinstance(wanted_id, str):
        raise _malformed()
    key = keys.find(signer, wanted_id)
    if key is None:
        raise Refusal(
            _("The signing key is not in the region's list for centre %(centre)s.")
            % {"centre": signer},
            code="unknown_key",
        )
    try:
        key.verify(signature, canonical(document))
    except InvalidSignature:
        raise Refusal(
            _("The signature does not match: the file was changed after it was signed."),
            code="tampered",
        ) from None
    return document
