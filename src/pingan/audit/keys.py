"""The audit chain's two keys, both held outside the database.

- The **audit key** (HMAC-SHA256, 32 bytes) links the entries: without it nobody can write an
  entry, or re-link the chain after deleting one, that `verify` accepts.
- The **checkpoint signing key** (Ed25519, a 32-byte seed) signs the daily checkpoints that
  anchor the chain outside the database: with it, and only with it, a checkpoint can be made
  that `verify --checkpoint` trusts. Whoever checks a checkpoint needs only its public key.

Production takes them from the environment (`PINGAN_AUDIT_KEY`, newest first when several are
given, comma-separated; `PINGAN_AUDIT_SIGNING_KEY`) and refuses to write to the audit log
without them. The demo and test settings may keep them in key files in the data directory,
made on first use, so a demo runs out of the box. Keys are written as 64 hexadecimal digits
or as base64 (what `pingan audit keys` prints).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

AUDIT_KEY_ENV = "PINGAN_AUDIT_KEY"
SIGNING_KEY_ENV = "PINGAN_AUDIT_SIGNING_KEY"
AUDIT_KEY_FILE = "audit_key"
SIGNING_KEY_FILE = "audit_signing_key"
KEY_BYTES = 32


class AuditKeyError(ImproperlyConfigured):
    """An audit key is missing or malformed; the message says which and what to do."""


def key_files_allowed() -> bool:
    """The demo and test settings (CREATE_MISSING_KEYS) keep the keys in the data directory
    when the environment has none; production reads the environment alone."""
    return bool(getattr(settings, "CREATE_MISSING_KEYS", False))


def encode(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode("ascii")


def decode(text: str, name: str) -> bytes:
    """32 bytes from 64 hex digits or base64 (standard or URL-safe); AuditKeyError otherwise.
    The message names the variable or file, never the value."""
    text = text.strip()
    raw = None
    if len(text) == 2 * KEY_BYTES:
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raw = None
    if raw is None:
        try:
            padded = text + "=" * (-len(text) % 4)
            raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        except (binascii.Error, ValueError):
            raw = None
    if raw is None or len(raw) != KEY_BYTES:
        raise AuditKeyError(
            f"{name} is malformed: expected {KEY_BYTES} bytes as 64 hexadecimal digits or base64"
            " (`pingan audit keys` prints fresh ones)"
        )
    return raw


def key_id(key: bytes) -> str:
    """A short public fingerprint of an audit key, stored on every entry it linked."""
    return hashlib.sha256(b"pingan-audit-key-id" + key).hexdigest()[:8]


def _key_file(name: str) -> Path:
    return Path(settings.DATA_DIR) / name


def _read(env: str, filename: str) -> tuple[str, str]:
    """(text, where it came from): the environment first, then (demo and tests only) the
    key file, made on first use with a fresh key."""
    text = os.environ.get(env, "").strip()
    if text:
        return text, env
    if not key_files_allowed():
        raise AuditKeyError(
            f"{env} is not set: the audit log cannot be written or checked without it"
            " (`pingan audit keys` prints fresh keys; see docs/audit.md)"
        )
    path = _key_file(filename)
    try:
        # O_EXCL: two processes starting at once never make two different keys.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as out:
            out.write(encode(secrets.token_bytes(KEY_BYTES)) + "\n")
    return path.read_text().strip(), str(path)


@dataclass(frozen=True)
class AuditKeys:
    keys: tuple[bytes, ...]  # newest first
    # Worked out once: every write names the current key's id.
    current_id: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "current_id", key_id(self.keys[0]))

    @property
    def current(self) -> bytes:
        return self.keys[0]

    def by_id(self) -> dict[str, tuple[int, bytes]]:
        """Key id -> (age: 0 for the newest, key)."""
        return {key_id(k): (age, k) for age, k in enumerate(self.keys)}


def load_audit_keys() -> AuditKeys:
    text, where = _read(AUDIT_KEY_ENV, AUDIT_KEY_FILE)
    parts = [p for p in text.split(",") if p.strip()]
    if not parts:
        raise AuditKeyError(f"{where} holds no key")
    return AuditKeys(tuple(decode(p, where) for p in parts))


def load_signing_key() -> Ed25519PrivateKey:
    text, where = _read(SIGNING_KEY_ENV, SIGNING_KEY_FILE)
    return Ed25519PrivateKey.from_private_bytes(decode(text, where))


@lru_cache(maxsize=1)
def audit_keys() -> AuditKeys:
    """The configured audit keys (read once per process: every write uses them)."""
    return load_audit_keys()


@lru_cache(maxsize=1)
def signing_key() -> Ed25519PrivateKey:
    return load_signing_key()


def reset() -> None:
    """Forget the keys read so far (tests that change the environment)."""
    audit_keys.cache_clear()
    signing_key.cache_clear()


def public_hex(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def public_key_from_hex(text: str) -> Ed25519PublicKey:
    try:
        raw = bytes.fromhex(text.strip())
        if len(raw) != KEY_BYTES:
            raise ValueError
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise AuditKeyError(
            "a checkpoint public key is 64 hexadecimal digits (`pingan audit public-key`)"
        ) from None


def fresh() -> dict[str, str]:
    """New keys, for an operator to put in the environment (never written anywhere here)."""
    return {
        AUDIT_KEY_ENV: encode(secrets.token_bytes(KEY_BYTES)),
        SIGNING_KEY_ENV: encode(secrets.token_bytes(KEY_BYTES)),
    }
