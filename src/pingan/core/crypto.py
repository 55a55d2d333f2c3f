"""Field encryption keys: authenticated encryption (Fernet: AES-128-CBC + HMAC-SHA256).

Keys live outside the database: in PINGAN_FIELD_KEYS (comma-separated, newest first) or,
outside production, in the key file named by the FIELD_KEY_FILE setting. A key is never
invented on the way: only the demo and test settings (CREATE_MISSING_KEYS) may create
that file, and `pingan keys generate` makes a key on request. Anything else without keys
stops with MissingFieldKeys, before it could encrypt under a key nobody keeps.

Every ciphertext is prefixed with the id of the key that made it, so `pingan keys rotate`
knows which rows are still under an older key and can stop and resume at any point, and an
unknown key is named in the message instead of failing somewhere deep.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.utils.translation import gettext

PREFIX_SEP = ":"


def _(message: str) -> str:
    """Translated once settings are loaded; plain English while the production settings
    themselves check the keys (no language is known yet then)."""
    return gettext(message) if settings.configured else message


class FieldKeyError(Exception):
    """The field keys are missing, malformed, or do not open a stored value."""


class MissingFieldKeys(FieldKeyError):
    pass


class MalformedFieldKey(FieldKeyError):
    pass


class UnknownFieldKey(FieldKeyError):
    """A stored value names a key id that is not configured."""

    def __init__(self, kid: str, where: str = ""):
        self.key_id = kid
        message = _(
            "A stored value is encrypted with key %(id)s, which is not in "
            "PINGAN_FIELD_KEYS. Add that key after the newest one and run the command "
            "again (`pingan keys status` counts the values under each key)."
        ) % {"id": kid}
        super().__init__(f"{where}: {message}" if where else message)


class TamperedValue(FieldKeyError):
    """A stored value under a configured key fails authentication (altered or damaged)."""

    def __init__(self, kid: str, where: str = ""):
        self.key_id = kid
        message = _(
            "A stored value under key %(id)s fails authentication: it was altered or "
            "damaged in the database."
        ) % {"id": kid}
        super().__init__(f"{where}: {message}" if where else message)


def key_id(key: bytes) -> str:
    """A short public fingerprint of a key; never reveals the key."""
    return hashlib.sha256(b"pingan-key-id" + key).hexdigest()[:8]


def generate_key() -> bytes:
    """A new random key (32 bytes, URL-safe base64), for the field keys or a backup key."""
    return Fernet.generate_key()


def parse_keys(raw: str, source: str) -> tuple[bytes, ...]:
    """Comma-separated Fernet keys, newest first; `source` names where they came from."""
    texts = [k.strip() for k in raw.split(",") if k.strip()]
    if not texts:
        raise MissingFieldKeys(_("%(source)s holds no key.") % {"source": source})
    keys = []
    for number, text in enumerate(texts, start=1):
        try:
            key = text.encode("ascii")
            Fernet(key)
        except ValueError:
            raise MalformedFieldKey(
                _(
                    "Key %(n)d of %(count)d in %(source)s is not a field key (32 bytes in "
                    "URL-safe base64, as `pingan keys generate` prints)."
                )
                % {"n": number, "count": len(texts), "source": source}
            ) from None
        keys.append(key)
    return tuple(keys)


@dataclass(frozen=True)
class Keyring:
    keys: tuple[bytes, ...]  # newest first
    # Built once per keyring: a Fernet per key id, so hot paths (the nightly PIN run decrypts
    # tens of thousands of secrets) neither re-hash keys nor rebuild ciphers per value.
    _by_id: dict[str, Fernet] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {key_id(k): Fernet(k) for k in self.keys})

    @property
    def current_id(self) -> str:
        return next(iter(self._by_id))

    @property
    def ids(self) -> list[str]:
        return list(self._by_id)

    def encrypt(self, plaintext: str) -> str:
        kid = self.current_id
        token = self._by_id[kid].encrypt(plaintext.encode("utf-8")).decode("ascii")
        return f"{kid}{PREFIX_SEP}{token}"

    def decrypt(self, stored: str, where: str = "") -> str:
        kid, _sep, token = stored.partition(PREFIX_SEP)
        cipher = self._by_id.get(kid)
        if cipher is None:
            raise UnknownFieldKey(kid, where)
        try:
            return cipher.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise TamperedValue(kid, where) from None

    def hmac_index(self, value: str) -> str:
        """A keyed blind index for exact-match lookups (e.g. a national ID) without decrypting.

        Derived from the oldest configured key so it stays stable across rotations until the
        oldest key is retired (the rotation command rebuilds it then)."""
        return hmac.new(self.keys[-1], value.encode("utf-8"), hashlib.sha256).hexdigest()


def write_key_file(path: Path, key: bytes) -> None:
    """Create `path` holding `key`, readable by its owner only; never overwrites a key."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, key + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)


def key_file() -> Path | None:
    """The key file these settings read when PINGAN_FIELD_KEYS is unset (None: none)."""
    path = getattr(settings, "FIELD_KEY_FILE", None)
    return Path(path) if path else None


def load_keys() -> tuple[bytes, ...]:
    raw = os.environ.get(settings.FIELD_KEYS_ENV, "").strip()
    if raw:
        return parse_keys(raw, settings.FIELD_KEYS_ENV)
    path = key_file()
    if path is not None:
        if not path.exists() and getattr(settings, "CREATE_MISSING_KEYS", False):
            try:
                write_key_file(path, generate_key())
            except FileExistsError:
                pass  # another process made it first: use theirs
        if path.exists():
            return parse_keys(path.read_text(encoding="ascii", errors="replace"), str(path))
    raise MissingFieldKeys(
        _(
            "No field encryption keys: set PINGAN_FIELD_KEYS (make a key with "
            "`pingan keys generate`). Ping An never invents a key on its own."
        )
    )


@lru_cache(maxsize=1)
def keyring() -> Keyring:
    return Keyring(load_keys())


def reset_keyring() -> None:
    keyring.cache_clear()
