"""Sign-in throttling: each wrong password makes the next try wait longer, never a lockout.

A hard lock on the username let anyone who knew a nurse's username keep her out before the
morning's dosing; a limit on the username alone let one machine try a few passwords on
every account. So failures of the last day are counted three ways (`SIGNIN_THROTTLE` in the
settings), each with its own allowance and ceiling:

- `account_address`: one account from one address — the guesser at the keyboard; waits grow
  to a quarter of an hour;
- `account`: one account from anywhere — guessing spread over many addresses; the ceiling is
  short (a minute), so the account's owner, signing in from elsewhere, waits at most that;
- `address`: any account from one address — one machine trying many usernames.

After `free` failures in a scope, the next try must wait 2**k seconds after the latest
failure (k = 1, 2, 3 … for each failure beyond the allowance), at most `cap`. A refused try
checks no password and counts for nothing, so hammering during a wait extends nothing. A
correct password deletes that account's failures from that address only: the owner's own
typos stop counting (a clinic behind one address is not slowed by its nurses' typing), and
neither a success on an account of one's own nor one from elsewhere wipes a guesser's record.

A try is written down *before* its password is checked and removed if it succeeds, so
requests sent in parallel see each other instead of all slipping through one gap.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Q
from django.http import HttpRequest

from pingan.audit.log import record
from pingan.audit.signals import capture_paused
from pingan.core import clock

from .models import SignInFailure

WINDOW = timedelta(hours=24)
MAX_EXPONENT = 30  # 2**30 s is far beyond any ceiling; keeps the arithmetic small


@dataclass(frozen=True)
class Limit:
    free: int
    cap: int  # seconds


def limits() -> dict[str, Limit]:
    return {scope: Limit(**values) for scope, values in settings.SIGNIN_THROTTLE.items()}


def address_of(request: HttpRequest) -> str:
    """The client's address as the throttle counts it. An IPv6 client usually holds a whole
    /64, so that prefix is one address here; IPv4-mapped IPv6 is plain IPv4."""
    raw = request.META.get("REMOTE_ADDR", "") or ""
    try:
        ip = ipaddress.ip_address(raw)
    except ValueError:
        return raw[:64]
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def account_key(username: str) -> str:
    """Usernames are counted without case, so `Nurse1` and `nurse1` share one count. The
    text is what was typed, unvalidated: a NUL (which PostgreSQL cannot store) is dropped."""
    return str(username or "").replace("\x00", "").strip().casefold()[:150]


def _scopes(username: str, address: str) -> dict[str, Q]:
    return {
        "account_address": Q(username=username, address=address),
        "account": Q(username=username),
        "address": Q(address=address),
    }


def backoff(failures: int, limit: Limit) -> int:
    """Seconds the next try must wait after the latest of `failures` failures."""
    if failures < limit.free:
        return 0
    return min(limit.cap, 2 ** min(failures - limit.free + 1, MAX_EXPONENT))


def waits(username: str, address: str) -> dict[str, int]:
    """For each scope still waiting: the whole seconds left before the next try."""
    username = account_key(username)
    now = clock.now()
    recent = SignInFailure.objects.filter(at__gt=now - WINDOW)
    rules = limits()
    left = {}
    for scope, where in _scopes(username, address).items():
        seen = recent.filter(where).aggregate(n=Count("id"), last=Max("at"))
        delay = backoff(seen["n"], rules[scope])
        if delay:
            remaining = (seen["last"] + timedelta(seconds=delay) - now).total_seconds()
            if remaining > 0:
                left[scope] = math.ceil(remaining)
    return left


@dataclass(frozen=True)
class Attempt:
    """A sign-in try: refused (`wait` seconds to go) or let through (`row` written down)."""

    username: str
    address: str
    wait: int = 0
    row: int | None = None

    @property
    def refused(self) -> bool:
        return self.wait > 0


def begin(username: str, address: str) -> Attempt:
    """Let a try through (written down as a failure until `succeeded`) or refuse it."""
    key = account_key(username)
    now = clock.now()
    with transaction.atomic(), capture_paused():
        SignInFailure.objects.filter(at__lte=now - WINDOW).delete()
        left = waits(key, address)
        if left:
            return Attempt(key, address, wait=max(left.values()))
        row = SignInFailure.objects.create(username=key, address=address, at=now)
    return Attempt(key, address, row=row.pk)


def succeeded(attempt: Attempt) -> None:
    """The password was right: this account's failures from this address stop counting."""
    with transaction.atomic(), capture_paused():
        SignInFailure.objects.filter(username=attempt.username, address=attempt.address).delete()


def failed(attempt: Attempt) -> None:
    """The password was wrong (the try stays counted). When that starts or lengthens a
    wait, the audit log says so once per failure, never once per refused try."""
    left = waits(attempt.username, attempt.address)
    if left:
        record(
            "login_throttled",
            target=f"user:{attempt.username}",
            wait_seconds=max(left.values()),
            scopes=sorted(left),
        )


def recent_failures(username: str) -> int:
    """Failures of the last day for an account, from any address (the staff screens)."""
    since = clock.now() - WINDOW
    return SignInFailure.objects.filter(username=account_key(username), at__gt=since).count()


def account_wait(username: str) -> int:
    """Seconds before anyone may try this account again, whatever their address."""
    return waits(username, "").get("account", 0)


def clear(username: str) -> int:
    """The manager's reset: forget every failure of this account, from every address."""
    with transaction.atomic(), capture_paused():
        deleted, _ = SignInFailure.objects.filter(username=account_key(username)).delete()
    return deleted
