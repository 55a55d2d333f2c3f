"""Field encryption keys: authenticated encryption (Fernet: AES-128-CBC + HMAC-SHA256).

Keys live outside the database: in PINGAN_FIELD_KEYS (comma-separated, newest first) or,
for a demo without that variable, in a key file in the data directory. Every ciphertext is
prefixed with the id of the key that made it, so `pingan keys rotate` knows which rows are
still under an older key and can stop and resume at any point.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

PREFIX_SEP = ":"


class KeyError_(Exception):
    """A ciphertext names a key that is not configured."""


def key_id(key: bytes) -> str:
    """A short public fingerprint of a key; never reveals the key."""
    return hashlib.sha256(b"pingan-key-id" + key).hexdigest()[:8]


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

    def encrypt(self, plaintext: str) -> str:
        kid = self.current_id
        token = self._by_id[kid].encrypt(plaintext.encode("utf-8")).decode("ascii")
        return f"{kid}{PREFIX_SEP}{token}"

    def decrypt(self, stored: str) -> str:
        kid, _, token = stored.partition(PREFIX_SEP)
        cipher = self._by_id.get(kid)
        if cipher is None:
            raise KeyError_(f"no configured key with id {kid}; add it to PINGAN_FIELD_KEYS")
        try:
            return cipher.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise KeyError_(f"ciphertext under key {kid} fails authentication") from exc

    def is_current(self, stored: str) -> bool:
        return stored.startswith(self.current_id + PREFIX_SEP)

    def hmac_index(self, value: str) -> str:
        """A keyed blind index for exact-match lookups (e.g. a national ID) without decrypting.

        Derived from the oldest configured key so it stays stable across rotations until the
        oldest key is retired (the rotation command rebuilds it then)."""
        import hmac

        return hmac.new(self.keys[-1], value.encode("utf-8"), hashlib.sha256).hexdigest()


def _key_file():
    return settings.DATA_DIR / "field_keys"


def load_keys() -> tuple[bytes, ...]:
    raw = os.environ.get(settings.FIELD_KEYS_ENV, "").strip()
    if not raw:
        path = _key_file()
        if not path.exists():
            path.write_text(Fernet.generate_key().decode("ascii"))
            path.chmod(0o600)
        raw = path.read_text().strip()
    keys = tuple(k.strip().encode("ascii") for k in raw.split(",") if k.strip())
    for k in keys:
        Fernet(k)  # raises ValueError on a malformed key, at start-up rather than mid-write
    return keys


@lru_cache(maxsize=1)
def keyring() -> Keyring:
    return Keyring(load_keys())


def reset_keyring() -> None:
    keyring.cache_clear()
