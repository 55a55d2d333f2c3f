"""What a version of the standard would do to the centre's clients, before anyone signs it.

The preview is the nightly eligibility list itself (`nightly.nightly_list`, the code that
makes the list staff read every morning), run twice on the same day: under the version in
force and under the new one. Each client in treatment that day is compared by the days at
home the record allows; nothing else is estimated, so what the signers are shown is what
the list would say. Who may see which clients is the view's business: the counts carry no
client, the per-client changes carry programme codes only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from . import nightly
from .standard import Rules


@dataclass(frozen=True)
class ClientChange:
    """One client whose days at home would change: by programme code, never by name."""

    code: str
    before: int
    after: int


@dataclass(frozen=True)
class Impact:
    day: date
    more: tuple[ClientChange, ...]
    fewer: tuple[ClientChange, ...]
    unchanged: int

    @property
    def clients(self) -> int:
        return len(self.more) + len(self.fewer) + self.unchanged

    @property
    def counts(self) -> dict[str, int]:
        """The numbers anyone who signs may see (the police included): no client in them."""
        return {
            "clients": self.clients,
            "more": len(self.more),
            "fewer": len(self.fewer),
            "unchanged": self.unchanged,
            # Of those: clients who would start or stop taking doses home at all.
            "started": sum(1 for c in self.more if c.before == 0),
            "stopped": sum(1 for c in self.fewer if c.after == 0),
        }


def _allowed(listed: nightly.NightlyList) -> dict[str, int]:
    """Programme code → days allowed, from the list's rows (code second, days last)."""
    return {row[1]: int(row[-1]) for row in listed.rows}


def compare(before: nightly.NightlyList, after: nightly.NightlyList) -> Impact:
    """Client by client, the days allowed by two lists of the same day."""
    was, now = _allowed(before), _allowed(after)
    more, fewer, unchanged = [], [], 0
    for code in sorted(was.keys() | now.keys()):
        change = ClientChange(code, was.get(code, 0), now.get(code, 0))
        if change.after > change.before:
            more.append(change)
        elif change.after < change.before:
            fewer.append(change)
        else:
            unchanged += 1
    return Impact(before.day, tuple(more), tuple(fewer), unchanged)


def impact(day: date, in_force: Rules, draft: Rules) -> Impact:
    """The nightly list of `day` under the version in force and under the draft, compared."""
    return compare(nightly.nightly_list(day, in_force), nightly.nightly_list(day, draft))
