"""Start-up checks: what `pingan check` reports and `pingan serve` insists on.

Each check returns findings (ok, warning, error) in words an operator can act on: the time
zone, the data directory and its file modes, the database (reachable, migrated), the field
keys (every key id found in the data is configured, and a sample value under each one
decrypts), key rotations that were interrupted, and the backup key. The settings already
refused what makes start-up impossible (production without its keys, a bad time zone or
database URL); these are the checks that need the database or the disk.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db import Error as DatabaseError
from django.db.migrations.executor import MigrationExecutor
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from pingan.core import clock
from pingan.core.crypto import FieldKeyError, keyring, reset_keyring

OK, WARNING, ERROR = "ok", "warning", "error"


@dataclass(frozen=True)
class Finding:
    level: str
    topic: str
    message: str

    def line(self) -> str:
        shown = {OK: _("ok"), WARNING: _("warning"), ERROR: _("ERROR")}[self.level]
        return f"[{shown}] {self.topic}: {self.message}"


def unapplied_migrations() -> list[str]:
    """Names of migrations the database still lacks ("app.0002_name")."""
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{m.app_label}.{m.name}" for m, _backwards in plan]


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def check_time_zone() -> list[Finding]:
    now = clock.localtime()
    return [
        Finding(
            OK,
            _("time zone"),
            _("%(zone)s, local time now %(now)s (UTC%(offset)s)")
            % {
                "zone": settings.TIME_ZONE,
                "now": now.strftime("%Y-%m-%d %H:%M"),
                "offset": now.strftime("%z"),
            },
        )
    ]


def _private_files() -> list[Path]:
    """Files that must be readable by their owner only: the SQLite database and its
    journal wherever they are, and every file at the top of the data directory (the demo's
    key files, the file SMS backend's outbox of phone numbers and PINs, exports)."""
    files = []
    db = connection.settings_dict
    if connection.vendor == "sqlite" and db["NAME"] != ":memory:":
        name = Path(str(db["NAME"]))
        files += [name, Path(f"{name}-wal"), Path(f"{name}-shm")]
    try:
        files += [f for f in Path(settings.DATA_DIR).iterdir() if f.is_file()]
    except OSError:
        pass  # an unreadable data directory is reported on its own
    return sorted({f for f in files if f.exists()})


def check_data_dir() -> list[Finding]:
    data = Path(settings.DATA_DIR)
    topic = _("data directory")
    loose = ERROR if getattr(settings, "STRICT_FILE_MODES", False) else WARNING
    if not data.is_dir():
        return [Finding(ERROR, topic, _("%(path)s does not exist.") % {"path": data})]
    found = []
    if not os.access(data, os.W_OK):
        found.append(
            Finding(
                ERROR,
                topic,
                _(
                    "%(path)s is not writable by this user (read-only, or owned by another "
                    "user): the database, uploads and reports cannot be written."
                )
                % {"path": data},
            )
        )
    mode = stat.S_IMODE(data.stat().st_mode)
    if mode & 0o077:
        found.append(
            Finding(
                loose,
                topic,
                _("%(path)s is open to other users (mode %(mode)s): chmod 700 %(path)s")
                % {"path": data, "mode": f"{mode:04o}"},
            )
        )
    for path in _private_files():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            found.append(
                Finding(
                    loose,
                    topic,
                    _("%(path)s is readable by other users (mode %(mode)s): chmod 600 %(path)s")
                    % {"path": path, "mode": f"{mode:04o}"},
                )
            )
    if not found:
        found.append(
            Finding(OK, topic, _("%(path)s, writable, private to its owner") % {"path": data})
        )
    return found


def check_database() -> list[Finding]:
    topic = _("database")
    try:
        connection.ensure_connection()
        missing = unapplied_migrations()
    except DatabaseError as exc:
        return [Finding(ERROR, topic, _("cannot be used: %(error)s") % {"error": _first_line(exc)})]
    if missing:
        return [
            Finding(
                ERROR,
                topic,
                _(
                    "The database lacks %(n)d migrations (%(first)s…). Run `pingan migrate` "
                    "first, then start the server again."
                )
                % {"n": len(missing), "first": missing[0]},
            )
        ]
    return [
        Finding(
            OK,
            topic,
            _("%(vendor)s, reachable, every migration applied") % {"vendor": connection.vendor},
        )
    ]


def check_field_keys() -> list[Finding]:
    from pingan.ops.rotation import encrypted_columns, key_usage, sample_values

    topic = _("field keys")
    reset_keyring()
    try:
        ring = keyring()
    except FieldKeyError as exc:
        return [Finding(ERROR, topic, str(exc))]
    found, checked, behind = [], 0, 0
    for col in encrypted_columns():
        usage = key_usage(col)
        for kid, (pk, stored) in sample_values(col).items():
            if kid not in ring.ids:
                found.append(
                    Finding(
                        ERROR,
                        topic,
                        ngettext(
                            "%(count)d value in %(column)s is under key %(id)s, which is not "
                            "in PINGAN_FIELD_KEYS.",
                            "%(count)d values in %(column)s are under key %(id)s, which is not "
                            "in PINGAN_FIELD_KEYS.",
                            usage[kid],
                        )
                        % {"count": usage[kid], "column": col.label, "id": kid},
                    )
                )
                continue
            try:
                ring.decrypt(stored, where=f"{col.label} #{pk}")
            except FieldKeyError as exc:
                found.append(Finding(ERROR, topic, str(exc)))
                continue
            checked += 1
            if kid != ring.current_id:
                behind += usage[kid]
    if behind:
        found.append(
            Finding(
                WARNING,
                topic,
                ngettext(
                    "%(count)d value is still under an older key: run `pingan keys rotate`.",
                    "%(count)d values are still under older keys: run `pingan keys rotate`.",
                    behind,
                )
                % {"count": behind},
            )
        )
    if not any(f.level == ERROR for f in found):
        facts = {"keys": len(ring.keys), "current": ring.current_id, "checked": checked}
        message = (
            _(
                "%(keys)d configured (newest %(current)s); %(checked)d sample values decrypt, "
                "one for each field and key in use"
            )
            if checked
            else _("%(keys)d configured (newest %(current)s); no encrypted value stored yet")
        )
        found.insert(0, Finding(OK, topic, message % facts))
    return found


def check_rotations(detected_by: str) -> list[Finding]:
    from pingan.audit.context import Actor, acting_as
    from pingan.ops.management import keyrotation
    from pingan.ops.rotation import RotationBusy, rotation_lock

    topic = _("key rotation")
    try:
        with rotation_lock(), acting_as(Actor(username="system", role="operator", ip="")):
            interrupted = keyrotation.record_interrupted(detected_by)
    except RotationBusy:
        return [Finding(WARNING, topic, _("a key rotation is running now"))]
    except OSError as exc:  # the lock file beside an SQLite database cannot be made
        return [Finding(ERROR, topic, f"{exc.filename}: {exc.strerror}")]
    return [
        Finding(
            WARNING,
            topic,
            _(
                "the rotation to key %(key)s started at %(at)s was interrupted; it is now "
                "recorded as interrupted. Run `pingan keys rotate` to finish it."
            )
            % {"key": run.key, "at": formats.localize(run.at)},
        )
        for run in interrupted
    ] or [Finding(OK, topic, _("no interrupted rotation"))]


def check_backup_key() -> list[Finding]:
    from pingan.ops.backup import BACKUP_KEY_ENV, BackupError, backup_key

    topic = _("backup key")
    if not os.environ.get(BACKUP_KEY_ENV, "").strip():
        return [Finding(OK, topic, _("not in the environment: give `pingan backup --key-file`"))]
    try:
        backup_key()
    except BackupError as exc:
        return [Finding(ERROR, topic, str(exc))]
    return [Finding(OK, topic, _("PINGAN_BACKUP_KEY holds a backup key"))]


def run_checks(detected_by: str) -> list[Finding]:
    findings = check_time_zone() + check_data_dir()
    database = check_database()
    findings += database
    if all(f.level != ERROR for f in database):
        try:
            findings += check_field_keys()
            findings += check_rotations(detected_by)
        except DatabaseError as exc:
            findings.append(
                Finding(
                    ERROR,
                    _("database"),
                    _("cannot be used: %(error)s") % {"error": _first_line(exc)},
                )
            )
    findings += check_backup_key()
    return findings
