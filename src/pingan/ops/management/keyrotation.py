"""Key-rotation runs in the audit log: started, then rotated (finished) or interrupted.

A rotation records its start before it rewrites anything. A run that ends by an error or
Ctrl+C records itself as interrupted on the way out; a run killed outright (power cut,
`kill -9`) cannot, so the next `pingan keys rotate` or `pingan check` finds the start
without an end, records it as interrupted, and says so. It only looks while holding the
rotation lock, so a rotation still running is never mistaken for a dead one. The rotation
itself resumes where it stopped (pingan.ops.rotation), so finishing is running it again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from pingan.audit.log import record
from pingan.audit.models import AuditEntry

# The codes as record() is called with them (literals there, for the audit-label scan).
STARTED = "keys_rotation_started"
FINISHED = "keys_rotated"
INTERRUPTED = "keys_rotation_interrupted"


@dataclass(frozen=True)
class OpenRun:
    run: str
    seq: int
    at: datetime
    key: str


def open_runs() -> list[OpenRun]:
    """Rotations that recorded a start and neither an end nor an interruption."""
    ended = {
        (detail or {}).get("run")
        for detail in AuditEntry.objects.filter(action__in=[FINISHED, INTERRUPTED]).values_list(
            "detail", flat=True
        )
    }
    return [
        OpenRun(run=e.detail.get("run", ""), seq=e.seq, at=e.at, key=e.detail.get("key", ""))
        for e in AuditEntry.objects.filter(action=STARTED).order_by("seq")
        if e.detail.get("run") not in ended
    ]


def record_interrupted(detected_by: str) -> list[OpenRun]:
    """Audit every open run as interrupted (the caller holds the rotation lock)."""
    found = open_runs()
    for run in found:
        record(
            "keys_rotation_interrupted",
            target=f"key:{run.key}",
            run=run.run,
            started_seq=run.seq,
            reason="no end recorded (process killed)",
            detected_by=detected_by,
        )
    return found


def start(key: str) -> str:
    run = uuid.uuid4().hex
    record("keys_rotation_started", target=f"key:{key}", run=run, key=key)
    return run


def interrupted(run: str, key: str, reason: str, rewritten: dict[str, int]) -> None:
    record(
        "keys_rotation_interrupted",
        target=f"key:{key}",
        run=run,
        reason=reason,
        rewritten=rewritten,
        detected_by="the run itself",
    )
