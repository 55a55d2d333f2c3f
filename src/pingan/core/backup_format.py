"""The encrypted backup file: AES-256-GCM in authenticated chunks (docs/backups.md).

Layout (all integers big-endian):

    header  34 bytes
        magic       8  b"PINGANBK"
        version     1  1
        engine      1  b"s" (SQLite) or b"p" (PostgreSQL)
        key id      4  first 4 bytes of SHA-256(b"pingan-backup-key" + backup key)
        salt       16  random, new for every file
        chunk size  4  plaintext bytes per chunk (the last chunk may be shorter)
    chunks  one after another, each AES-256-GCM(chunk, nonce, associated data = header),
            i.e. its ciphertext followed by a 16-byte tag

The file key is HKDF-SHA256(backup key, salt, info b"pingan backup v1"), so no two files
share a key and the chunk counter can serve as the nonce: 11 bytes of counter, then one byte
that is 1 for the last chunk and 0 otherwise (the STREAM construction, as in `age`). Every
chunk is authenticated on its own: a changed byte, a changed header, chunks swapped,
dropped, or cut off at the end, all fail. The key id lets a wrong key be named before any
decryption; a forged key id still fails, since the header is authenticated data.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"PINGANBK"
VERSION = 1
ENGINE_BYTES = {"sqlite": b"s", "postgresql": b"p"}
HEADER_SIZE = 8 + 1 + 1 + 4 + 16 + 4
TAG_SIZE = 16
CHUNK_SIZE = 1 << 16
MAX_CHUNK_SIZE = 1 << 24  # a header is read before it is authenticated: bound what it asks


class SealError(Exception):
    """The file cannot be opened with this key; `reason` says which way it failed."""

    def __init__(self, reason: str, **facts):
        self.reason = reason
        self.facts = facts
        super().__init__(reason)


def parse_key(text: str | bytes) -> bytes:
    """A backup key as `pingan keys generate` prints it: 32 bytes in URL-safe base64."""
    raw = text.strip() if isinstance(text, bytes) else text.strip().encode("ascii", "replace")
    try:
        key = base64.urlsafe_b64decode(raw)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise SealError("malformed_key")
    return key


def backup_key_id(key: bytes) -> str:
    return hashlib.sha256(b"pingan-backup-key" + key).digest()[:4].hex()


@dataclass(frozen=True)
class Header:
    engine: str
    key_id: str
    salt: bytes
    chunk_size: int
    raw: bytes


def _file_key(key: bytes, salt: bytes) -> AESGCM:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=salt, info=b"pingan backup v1"
    ).derive(key)
    return AESGCM(derived)


def _nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def read_header(f: BinaryIO) -> Header | None:
    """The header at the start of `f`, or None if `f` is not an encrypted backup."""
    raw = f.read(HEADER_SIZE)
    if len(raw) < HEADER_SIZE or not raw.startswith(MAGIC):
        return None
    if raw[8] != VERSION:
        raise SealError("version", version=raw[8])
    engines = {v: k for k, v in ENGINE_BYTES.items()}
    engine = engines.get(raw[9:10])
    chunk_size = int.from_bytes(raw[30:34], "big")
    if engine is None or not 0 < chunk_size <= MAX_CHUNK_SIZE:
        raise SealError("damaged")
    return Header(engine, raw[10:14].hex(), raw[14:30], chunk_size, raw)


def _chunks(f: BinaryIO, size: int) -> Iterator[tuple[bytes, bool]]:
    """(piece, is_last) for consecutive pieces of `size` bytes; one empty piece if none."""
    piece = f.read(size)
    while True:
        following = f.read(size) if len(piece) == size else b""
        yield piece, not following
        if not following:
            return
        piece = following


def seal(source: BinaryIO, target: BinaryIO, key: bytes, engine: str, chunk_size=CHUNK_SIZE):
    """Encrypt all of `source` into `target` under the backup `key`."""
    salt = os.urandom(16)
    header = (
        MAGIC
        + bytes([VERSION])
        + ENGINE_BYTES[engine]
        + bytes.fromhex(backup_key_id(key))
        + salt
        + chunk_size.to_bytes(4, "big")
    )
    cipher = _file_key(key, salt)
    target.write(header)
    for counter, (piece, last) in enumerate(_chunks(source, chunk_size)):
        target.write(cipher.encrypt(_nonce(counter, last), piece, header))


def unseal(source: BinaryIO, target: BinaryIO, key: bytes) -> Header:
    """Decrypt `source` into `target`, checking every chunk; raises SealError (reason
    "not_sealed", "wrong_key" or "damaged") at the first problem."""
    header = read_header(source)
    if header is None:
        raise SealError("not_sealed")
    if header.key_id != backup_key_id(key):
        raise SealError("wrong_key", file_key=header.key_id, given_key=backup_key_id(key))
    cipher = _file_key(key, header.salt)
    for counter, (piece, last) in enumerate(_chunks(source, header.chunk_size + TAG_SIZE)):
        try:
            target.write(cipher.decrypt(_nonce(counter, last), piece, header.raw))
        except (InvalidTag, ValueError):
            raise SealError("damaged", chunk=counter) from None
    return header
