"""The encrypted backup format on its own: every length round-trips, and any change to the
file (a byte, the order of chunks, the end cut at a chunk boundary, the header) fails."""

from __future__ import annotations

import io
import os

import pytest

from pingan.core import backup_format as fmt

KEY = os.urandom(32)
CHUNK = 64


def sealed(data: bytes, chunk: int = CHUNK, key: bytes = KEY) -> bytes:
    out = io.BytesIO()
    fmt.seal(io.BytesIO(data), out, key, "sqlite", chunk_size=chunk)
    return out.getvalue()


def unsealed(blob: bytes, key: bytes = KEY) -> bytes:
    out = io.BytesIO()
    fmt.unseal(io.BytesIO(blob), out, key)
    return out.getvalue()


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 7])
def test_every_length_round_trips(size):
    data = os.urandom(size)
    blob = sealed(data)
    assert unsealed(blob) == data
    chunks = max(1, -(-size // CHUNK))
    assert len(blob) == fmt.HEADER_SIZE + size + chunks * fmt.TAG_SIZE
    assert sealed(data) != blob  # a new salt, so a new file key, every time


def _damaged(blob: bytes) -> None:
    with pytest.raises(fmt.SealError) as failed:
        unsealed(blob)
    assert failed.value.reason == "damaged"


def test_any_change_fails_authentication():
    data = os.urandom(4 * CHUNK)
    blob = sealed(data)
    step = CHUNK + fmt.TAG_SIZE
    head, body = blob[: fmt.HEADER_SIZE], blob[fmt.HEADER_SIZE :]
    chunks = [body[i : i + step] for i in range(0, len(body), step)]
    assert len(chunks) == 4
    for i in range(len(blob)):
        if 10 <= i < 14:
            continue  # the key id: refused as a wrong key, below
        changed = bytearray(blob)
        changed[i] ^= 0x80
        with pytest.raises(fmt.SealError):
            unsealed(bytes(changed))
    _damaged(head + chunks[1] + chunks[0] + chunks[2] + chunks[3])  # reordered
    _damaged(head + b"".join(chunks[:3]))  # cut at a chunk boundary
    _damaged(head + b"".join(chunks[:3]) + chunks[3][:-1])  # cut inside the last chunk
    _damaged(head + b"".join(chunks) + chunks[3])  # a chunk repeated
    other = sealed(data)  # same key, another file: its chunks do not fit this header
    _damaged(head + other[fmt.HEADER_SIZE :])


def test_a_wrong_key_is_named_before_decrypting():
    blob = sealed(b"clinical data")
    wrong = os.urandom(32)
    with pytest.raises(fmt.SealError) as failed:
        unsealed(blob, key=wrong)
    assert failed.value.reason == "wrong_key"
    assert failed.value.facts == {
        "file_key": fmt.backup_key_id(KEY),
        "given_key": fmt.backup_key_id(wrong),
    }
    forged = bytearray(blob)
    forged[10:14] = bytes.fromhex(fmt.backup_key_id(wrong))
    with pytest.raises(fmt.SealError) as failed:
        unsealed(bytes(forged), key=wrong)  # the id matches now; the chunks still do not
    assert failed.value.reason == "damaged"


def test_not_a_sealed_file_and_malformed_keys():
    assert fmt.read_header(io.BytesIO(b"SQLite format 3\x00" + b"\x00" * 100)) is None
    with pytest.raises(fmt.SealError, match="not_sealed"):
        unsealed(b"PGDMP")
    for text in ("", "short", "!" * 44, "A" * 43):
        with pytest.raises(fmt.SealError, match="malformed_key"):
            fmt.parse_key(text)
