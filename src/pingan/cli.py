"""The `pingan` command: Django's management commands under the project's settings.

Settings are production's unless DJANGO_SETTINGS_MODULE names others: a server started
without its configuration refuses to start instead of quietly running as a demo. `pingan
demo` and the synthetic-data tools (`synth`, `bench`) take the demo settings; `--help` and
`keys generate` read and write no data, so they need no configuration at all.

Errors an operator meets in the course of work (configuration, an unreachable or read-only
database, missing or wrong keys, a full disk) end as one line on stderr and a non-zero exit
status, never a traceback; `--traceback` shows one anyway. Files are created readable by
their owner only (umask 077): the database, its journal, backups, exports, keys.
"""

from __future__ import annotations

import os
import sqlite3
import sys

PRODUCTION = "pingan.settings.production"
DEMO = "pingan.settings.demo"
BASE = "pingan.settings.base"
DEMO_COMMANDS = frozenset({"demo", "synth", "bench"})
HELP = frozenset({"help", "version", "--help", "-h", "--version"})


def _needs_no_data(args: list[str]) -> bool:
    return (
        not args
        or args[0] in HELP
        or "--help" in args
        or "-h" in args
        or args[:2] == ["keys", "generate"]
    )


def settings_module(args: list[str], chosen: str | None) -> str:
    """The settings a run of `pingan ARGS` uses, `chosen` being DJANGO_SETTINGS_MODULE."""
    if chosen in (None, "", PRODUCTION) and _needs_no_data(args):
        return BASE
    if chosen:
        return chosen
    return DEMO if args and args[0] in DEMO_COMMANDS else PRODUCTION


def _(message: str) -> str:
    """Translated when the settings loaded; English when they are what failed."""
    from django.conf import settings

    if not settings.configured:
        return message
    from django.utils.translation import gettext

    return gettext(message)


def operational_message(exc: BaseException) -> str | None:
    """The one-line message for an error an operator can fix, or None (a bug: traceback)."""
    from django.core.exceptions import ImproperlyConfigured
    from django.db import utils

    from pingan.core.crypto import FieldKeyError

    if isinstance(exc, ImproperlyConfigured | FieldKeyError):
        return str(exc)
    if isinstance(exc, utils.Error | sqlite3.Error):
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return _("The database cannot be used: %(error)s") % {"error": first} + _where()
    if isinstance(exc, OSError):
        reason = exc.strerror or str(exc) or type(exc).__name__
        where = exc.filename
        return f"{where}: {reason}" if where else reason
    return None


def _where() -> str:
    """The SQLite file's path, to follow a database error: the usual cause is its folder."""
    from django.conf import settings

    if not settings.configured:
        return ""
    db = settings.DATABASES["default"]
    return f" ({db['NAME']})" if db["ENGINE"].endswith("sqlite3") else ""


def _run(args: list[str]) -> None:
    from django.conf import settings
    from django.core.management import execute_from_command_line

    settings.INSTALLED_APPS  # noqa: B018 — load the settings here, where refusals are caught
    execute_from_command_line(["pingan", *args])


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    os.umask(os.umask(0o077) | 0o077)
    chosen = os.environ.get("DJANGO_SETTINGS_MODULE")
    if args and args[0] == "demo" and chosen == PRODUCTION:
        sys.stderr.write(
            "pingan: the demo runs with the demo settings; unset DJANGO_SETTINGS_MODULE "
            f"(it says {PRODUCTION}) or use ./scripts/demo.sh.\n"
        )
        sys.exit(2)
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module(args, chosen)
    try:
        _run(args)
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        sys.exit(130)
    except Exception as exc:
        message = operational_message(exc)
        if message is None or "--traceback" in args:
            raise
        sys.stderr.write(f"pingan: {message}\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
