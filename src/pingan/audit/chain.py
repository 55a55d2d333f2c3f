"""How one entry is linked to the one before it: pure functions, no database.

A keyed link (every entry written since the audit key exists):

    content = the entry's own fields as canonical JSON (time in UTC, keys sorted)
    entry_key = HMAC-SHA256(audit key, "pingan-audit-entry\\n" + content)
    link = HMAC-SHA256(entry_key, previous link + ":" + sequence number), in hex

The link is a MAC of the entry's content, its place and everything before it, under the
audit key; it is stored in the entry's `hash` column and becomes the next entry's `prev_hash`.
The two steps let the database make the second one (PostgreSQL: `log._LINK_SQL`) under the
chain's head lock in the same statement that writes the entry, while only this entry's
derived key reaches the database server, never the audit key: that key can place this one
entry, unchanged, elsewhere in the chain, and can neither change nor forge any entry.

Entries written before the audit key existed (`key_id` empty) keep their unkeyed SHA-256
link (`legacy_digest`). They can only come first: the first keyed entry's MAC covers the
last unkeyed link, and so, through it, every unkeyed entry before it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

GENESIS = "0" * 64
_ENTRY = b"pingan-audit-entry\n"
_IPAD = int.from_bytes(b"\x36" * 64)
_OPAD = int.from_bytes(b"\x5c" * 64)


def _dumps(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def content(at: datetime, fields: dict) -> bytes:
    """The entry's own fields (not its place in the chain) as the MAC reads them."""
    return _dumps({"at": at.astimezone(UTC).isoformat(), **fields}).encode("utf-8")


def entry_key(audit_key: bytes, text: bytes) -> bytes:
    return hmac.new(audit_key, _ENTRY + text, hashlib.sha256).digest()


def _link_message(prev: str, seq: int) -> bytes:
    return f"{prev}:{seq}".encode("ascii")


def link(key: bytes, prev: str, seq: int) -> str:
    return hmac.new(key, _link_message(prev, seq), hashlib.sha256).hexdigest()


def pads(key: bytes) -> tuple[bytes, bytes]:
    """HMAC's inner and outer padded keys (RFC 2104) for a 32-byte key, so a database with
    only SHA-256 computes `link` as sha256(outer || sha256(inner || message))."""
    block = int.from_bytes(key.ljust(64, b"\0"))
    return (block ^ _IPAD).to_bytes(64), (block ^ _OPAD).to_bytes(64)


def legacy_digest(prev_hash: str, seq: int, at: str, fields: dict) -> str:
    """The unkeyed link of entries written before the audit key (kept so they still verify)."""
    payload = _dumps({"prev": prev_hash, "seq": seq, "at": at, **fields})
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
