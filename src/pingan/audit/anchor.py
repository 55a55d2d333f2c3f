"""Signed checkpoints: the chain's head, anchored outside the database.

The audit key stops anyone without it from re-linking the chain; it cannot stop someone who
has it (or who has the server where it is). A checkpoint names an entry by its sequence
number and the link the chain had there, signed with Ed25519 by a key that is not in the
database either, and is kept where the database is not: a JSON-lines file in
`PINGAN_AUDIT_CHECKPOINT_DIR` (default: `audit-checkpoints/` in the data directory), copies handed
to the region, and the monthly report on paper. A link is a MAC over everything before it,
so `verify --checkpoint` finds any rewrite of the entries up to a checkpoint, whoever made
it and whatever key they held; a checkpoint that does not verify under a trusted public key
is rejected, never used.

One line per checkpoint, its fields signed as canonical JSON (keys sorted, no spaces):
`{"at": instant (UTC), "date": the centre's date, "entry": entry id, "head": link,
"key": public key (hex), "seq": sequence number, "v": 1, "sig": signature (hex)}`.
That is a checkpoint of the region's chain (and of the single chain before there was one
per centre); a centre's chain has `"centre": its code` and `"v": 2`. One run checkpoints
every chain (`take_all`).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, date
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

from pingan.core import clock

from . import keys, log
from .chain import GENESIS
from .context import centre_id
from .models import AuditEntry, AuditHead

FILENAME = "checkpoints.jsonl"
VERSION = 1
CENTRE_VERSION = 2  # a centre's chain: the fields of VERSION and "centre"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX128 = re.compile(r"[0-9a-f]{128}")


class CheckpointError(Exception):
    """A checkpoint cannot be taken or read; the message says why, in plain words."""


@dataclass(frozen=True)
class Checkpoint:
    date: str
    at: str
    seq: int
    entry: int | None
    head: str
    key: str
    sig: str = ""
    centre: str | None = None  # the chain: a centre's code, None for the region's

    def body(self) -> dict:
        body = {
            "at": self.at,
            "date": self.date,
            "entry": self.entry,
            "head": self.head,
            "key": self.key,
            "seq": self.seq,
            "v": VERSION,
        }
        if self.centre is not None:
            body.update(centre=self.centre, v=CENTRE_VERSION)
        return body

    @property
    def chain(self) -> str:
        return f"centre {self.centre}" if self.centre is not None else "region"

    def signed_text(self) -> bytes:
        return _canonical(self.body())

    def line(self) -> str:
        return _canonical({**self.body(), "sig": self.sig}).decode("ascii")


def _canonical(value: dict) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def directory() -> Path:
    """PINGAN_AUDIT_CHECKPOINT_DIR (or the AUDIT_CHECKPOINT_DIR setting), else
    `audit-checkpoints/` in the data directory."""
    configured = getattr(settings, "AUDIT_CHECKPOINT_DIR", None) or os.environ.get(
        "PINGAN_AUDIT_CHECKPOINT_DIR", ""
    )
    return Path(configured) if configured else Path(settings.DATA_DIR) / "audit-checkpoints"


def default_path() -> Path:
    return directory() / FILENAME


def sign(checkpoint: Checkpoint, key: Ed25519PrivateKey) -> Checkpoint:
    signature = key.sign(checkpoint.signed_text()).hex()
    return Checkpoint(**{**checkpoint.__dict__, "sig": signature})


# Reading


def _parse(text: str) -> Checkpoint:
    """One line into a Checkpoint, or ValueError saying what is wrong with it."""
    try:
        data = json.loads(text)
    except ValueError:
        raise ValueError("not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    version = data.get("v")
    if version not in (VERSION, CENTRE_VERSION) or isinstance(version, bool):
        raise ValueError(f"unknown checkpoint version {version!r}")

    def wanted(name: str, kind: type, pattern: re.Pattern | None = None):
        value = data.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ValueError(f"field {name!r} missing or not a {kind.__name__}")
        if pattern is not None and not pattern.fullmatch(value):
            raise ValueError(f"field {name!r} is malformed")
        return value

    seq = wanted("seq", int)
    entry = data.get("entry")
    if seq < 0 or (entry is not None and (not isinstance(entry, int) or isinstance(entry, bool))):
        raise ValueError("field 'seq' or 'entry' is malformed")
    day = wanted("date", str)
    try:
        date.fromisoformat(day)
    except ValueError:
        raise ValueError("field 'date' is not a date") from None
    fields = {"at", "date", "entry", "head", "key", "seq", "v", "sig"}
    if version == CENTRE_VERSION:
        fields.add("centre")
        wanted("centre", str)
    if set(data) != fields:
        raise ValueError("unexpected or missing fields")
    return Checkpoint(
        centre=data.get("centre"),
        date=day,
        at=wanted("at", str),
        seq=seq,
        entry=entry,
        head=wanted("head", str, _HEX64),
        key=wanted("key", str, _HEX64),
        sig=wanted("sig", str, _HEX128),
    )


def _signature_holds(checkpoint: Checkpoint, trusted: dict[str, Ed25519PublicKey]) -> str:
    """ "" when the checkpoint is signed by a trusted key, else what is wrong."""
    public = trusted.get(checkpoint.key)
    if public is None:
        return f"signed by key {checkpoint.key[:16]}…, which is not a trusted checkpoint key"
    try:
        public.verify(bytes.fromhex(checkpoint.sig), checkpoint.signed_text())
    except InvalidSignature:
        return "the signature does not verify: the checkpoint was forged or altered"
    return ""


@dataclass(frozen=True)
class Reading:
    """The checkpoints of a file that verify, and a line for each one that does not."""

    checkpoints: list[Checkpoint]
    problems: list[str]


def read(path: Path, trusted: list[Ed25519PublicKey]) -> Reading:
    """Every line of a checkpoint file, checked against the trusted public keys. A line that
    is malformed, signed by another key or whose signature fails is a problem, not a
    checkpoint. CheckpointError if the file cannot be read at all."""
    by_hex = {keys.public_hex(k): k for k in trusted}
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        raise CheckpointError(f"no checkpoint file at {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CheckpointError(f"cannot read the checkpoint file {path}: {error}") from None
    good, problems = [], []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            checkpoint = _parse(text)
        except ValueError as error:
            problems.append(f"{path.name} line {number}: not a valid checkpoint ({error})")
            continue
        wrong = _signature_holds(checkpoint, by_hex)
        if wrong:
            problems.append(
                f"{path.name} line {number} (checkpoint of {checkpoint.date}, {checkpoint.chain}"
                f" entry {checkpoint.seq}): {wrong}"
            )
        else:
            good.append(checkpoint)
    return Reading(good, problems)


def trusted_keys(extra: list[str] = (), configured: bool = True) -> list[Ed25519PublicKey]:
    """The public keys checkpoints are checked against: this centre's own signing key (when
    it is configured) and any given as hex. AuditKeyError if that leaves none."""
    found = [keys.public_key_from_hex(text) for text in extra]
    if configured:
        try:
            found.append(keys.signing_key().public_key())
        except keys.AuditKeyError:
            if not found:
                raise
    return found


# Taking a checkpoint


def _tip(centre_id: int | None) -> tuple[int, int | None, str]:
    last = (
        AuditEntry.objects.filter(centre_id=centre_id)
        .order_by("-seq")
        .values_list("seq", "id", "hash")
        .first()
    )
    return last if last is not None else (0, None, GENESIS)


def _check_since(
    previous: Checkpoint | None, until: int, centre_id: int | None, code: str | None
) -> list[log.Break]:
    """One chain from the previous checkpoint's entry (or from the start) to `until` holds,
    and that entry still has the link the checkpoint signed."""
    rows = AuditEntry.objects.filter(centre_id=centre_id, seq__lte=until).order_by("seq")
    walk = log.Walk([previous] if previous else [], centre=code)
    if previous is not None and previous.seq > 0:
        rows = rows.filter(seq__gte=previous.seq)
        walk.start_at(previous.seq, rows.values_list("prev_hash", flat=True).first() or "")
    for entry in rows.iterator(chunk_size=2000):
        walk.entry(entry)
    return walk.end(None).breaks


def _chains() -> list[tuple[int | None, str | None]]:
    """(centre id, code) of every chain: the region's first, then the centres' by code."""
    codes = log.chain_codes()
    ids = {None, *AuditHead.objects.values_list("centre_id", flat=True)}
    found = [(pk, codes.get(pk, f"#{pk}") if pk is not None else None) for pk in ids]
    return sorted(found, key=lambda chain: (chain[1] is not None, chain[1] or ""))


def _sign_chain(
    signing: Ed25519PrivateKey, reading: Reading, centre_id: int | None, code: str | None
) -> Checkpoint:
    """Check one chain since its last checkpoint in `reading`, then sign its head."""
    mine = [c for c in reading.checkpoints if c.centre == code]
    previous = max(mine, key=lambda c: c.seq, default=None)
    seq, entry_id, head = _tip(centre_id)
    chain_name = f"centre {code}" if code is not None else "region"
    if previous is not None and seq < previous.seq:
        raise CheckpointError(
            f"the {chain_name} chain ends at entry {seq}, before entry {previous.seq} that the"
            f" checkpoint of {previous.date} names; nothing was added"
        )
    breaks = _check_since(previous, seq, centre_id, code)
    if breaks:
        raise CheckpointError(
            f"the {chain_name} audit chain does not hold; nothing was signed:\n"
            + "\n".join(f"{b.where}: {b.reason}" for b in breaks)
        )
    now = clock.now()
    return sign(
        Checkpoint(
            date=clock.today().isoformat(),
            at=now.astimezone(UTC).isoformat(),
            seq=seq,
            entry=entry_id,
            head=head,
            key=keys.public_hex(signing.public_key()),
            centre=code,
        ),
        signing,
    )


def _take(path: Path | None, copies: list[Path], which: str | None | object) -> list[Checkpoint]:
    path = path or default_path()
    signing = keys.signing_key()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    except OSError as error:
        raise CheckpointError(f"cannot write the checkpoint file {path}: {error}") from None
    with os.fdopen(fd, "r+", encoding="utf-8") as file:
        fcntl.flock(file, fcntl.LOCK_EX)  # two runs at once append one after the other
        reading = read(path, [signing.public_key()])
        if reading.problems:
            raise CheckpointError(
                "the checkpoint file holds lines that do not verify; nothing was added:\n"
                + "\n".join(reading.problems)
            )
        chains = _chains()
        if which is not _ALL:
            chains = [c for c in chains if c[1] == which] or [(_centre_id(which), which)]
        # Every chain is checked before any checkpoint is written: all or none.
        taken = [_sign_chain(signing, reading, pk, code) for pk, code in chains]
        file.write("".join(checkpoint.line() + "\n" for checkpoint in taken))
        file.flush()
        os.fsync(file.fileno())
    for copy in copies:
        _append(copy, taken)
    return taken


_ALL = object()


def _centre_id(code: str | None) -> int | None:
    return None if code is None else centre_id(code)


def take_all(path: Path | None = None, copies: list[Path] = ()) -> list[Checkpoint]:
    """Check every chain since its last checkpoint in `path`, then sign each chain's head
    and append the checkpoints to `path` (and to each copy), the region's first. Nothing is
    written when a chain does not hold or the file holds a checkpoint that does not verify
    (CheckpointError says where)."""
    return _take(path, copies, _ALL)


def take(
    path: Path | None = None, copies: list[Path] = (), centre: str | None = None
) -> Checkpoint:
    """`take_all` for one chain: the region's, or the centre's with code `centre`."""
    return _take(path, copies, centre)[0]


def _append(path: Path, checkpoints: list[Checkpoint]) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            fcntl.flock(file, fcntl.LOCK_EX)
            file.write("".join(checkpoint.line() + "\n" for checkpoint in checkpoints))
    except OSError as error:
        raise CheckpointError(
            f"the checkpoint was recorded in the checkpoint file, but not copied to {path}: {error}"
        ) from None


def latest(until: date, path: Path | None = None, centre: str | None = None) -> Checkpoint | None:
    """The newest checkpoint of one chain (the region's, or the centre's with code
    `centre`) dated on or before `until` that verifies under this installation's signing
    key (None when there is none, or it cannot be checked here)."""
    try:
        reading = read(path or default_path(), trusted_keys())
    except (CheckpointError, keys.AuditKeyError):
        return None
    dated = [
        c for c in reading.checkpoints if c.centre == centre and date.fromisoformat(c.date) <= until
    ]
    return max(dated, key=lambda c: (c.seq, c.at), default=None)
