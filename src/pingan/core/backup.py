"""Backing up and restoring the whole database (docs/backups.md).

SQLite: Python's sqlite3 online backup API, which copies a consistent snapshot while the
server keeps writing. PostgreSQL: `pg_dump -Fc` and `pg_restore`. The file is the
engine's own format (an SQLite database, a pg_dump archive), so standard tools can read it
and the engine is recognised from its first bytes. The field encryption keys are NOT in
the backup: they live outside the database and must be kept separately.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.db import connection, connections

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"
ENGINES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


class BackupError(Exception):
    """A backup or restore that could not be done; the message says why."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    engine: str
    size: int
    sha256: str


@dataclass(frozen=True)
class RestoreResult:
    engine: str
    audit_entries: int
    audit_breaks: list  # pingan.audit.log.Break


def current_engine() -> str:
    vendor = connection.vendor
    if vendor not in ENGINES:
        raise BackupError(f"backups of a {vendor} database are not supported")
    return vendor


def file_engine(path: Path) -> str | None:
    """Which engine wrote the backup file, from its first bytes (None: not a backup)."""
    with open(path, "rb") as f:
        head = f.read(len(SQLITE_MAGIC))
    if head == SQLITE_MAGIC:
        return "sqlite"
    if head.startswith(PG_MAGIC):
        return "postgresql"
    return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def backup(path: Path) -> BackupResult:
    """Write a backup to `path`: first to `path.tmp`, renamed only once complete and
    checked, so a crash never leaves a half-written file under the real name."""
    path = Path(path)
    engine = current_engine()
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    try:
        if engine == "sqlite":
            _sqlite_backup(tmp)
        else:
            _pg_dump(tmp)
        if file_engine(tmp) != engine:
            raise BackupError("the backup file is not in the expected format")
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return BackupResult(path, engine, path.stat().st_size, _sha256(path))


def _sqlite_name() -> str:
    return str(connection.settings_dict["NAME"])


def _sqlite_backup(tmp: Path) -> None:
    source = sqlite3.connect(_sqlite_name(), timeout=30)
    target = sqlite3.connect(tmp)
    try:
        source.backup(target)
        # One self-contained file (no -wal companion) that opens anywhere.
        target.execute("PRAGMA journal_mode=DELETE")
        ok = target.execute("PRAGMA integrity_check").fetchone()[0]
        if ok != "ok":
            raise BackupError(f"the copy fails SQLite's integrity check: {ok}")
    finally:
        target.close()
        source.close()


def _pg_args() -> tuple[list[str], dict[str, str]]:
    """Connection arguments from settings; the password goes in PGPASSWORD, never on the
    command line where other users of the machine could read it."""
    s = connection.settings_dict
    args = []
    if s.get("HOST"):
        args += ["-h", str(s["HOST"])]
    if s.get("PORT"):
        args += ["-p", str(s["PORT"])]
    if s.get("USER"):
        args += ["-U", str(s["USER"])]
    env = dict(os.environ)
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = str(s["PASSWORD"])
    return args, env


def _run(argv: list[str], env: dict[str, str]) -> None:
    if shutil.which(argv[0]) is None:
        raise BackupError(f"{argv[0]} is not installed (apt-get install postgresql-client)")
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{argv[0]} failed: {done.stderr.strip()[-2000:]}")


def _pg_dump(tmp: Path) -> None:
    args, env = _pg_args()
    _run(["pg_dump", "-Fc", "-f", str(tmp), *args, str(connection.settings_dict["NAME"])], env)


def check_restorable(path: Path) -> str:
    """The engine of a backup file that matches this installation, or a clear refusal."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} is not a file")
    found = file_engine(path)
    engine = current_engine()
    if found is None:
        raise BackupError(f"{path} is not a Ping An backup (neither SQLite nor pg_dump format)")
    if found != engine:
        raise BackupError(
            f"{path} is a {ENGINES[found]} backup but this installation runs on "
            f"{ENGINES[engine]}; restore it into a {ENGINES[found]} installation"
        )
    return engine


def restore(path: Path) -> RestoreResult:
    """Replace the whole database with the backup, then verify the audit chain."""
    from pingan.audit.log import verify
    from pingan.audit.models import AuditEntry

    path = Path(path)
    engine = check_restorable(path)
    if engine == "sqlite":
        _sqlite_restore(path)
    else:
        connections.close_all()
        args, env = _pg_args()
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                *args,
                "-d",
                str(connection.settings_dict["NAME"]),
                str(path),
            ],
            env,
        )
        connections.close_all()
        # A dump carries no planner statistics: until autovacuum gets round to it, the
        # restored tables would be planned as empty (nightly lists, indicators).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    connections.close_all()
    return RestoreResult(engine, AuditEntry.objects.count(), verify())


def _sqlite_restore(path: Path) -> None:
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        ok = source.execute("PRAGMA integrity_check").fetchone()[0]
        if ok != "ok":
            raise BackupError(f"{path} fails SQLite's integrity check: {ok}")
        has_schema = source.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='django_migrations'"
        ).fetchone()
        if not has_schema:
            raise BackupError(f"{path} is an SQLite file but not a Ping An database")
        connections.close_all()
        target = sqlite3.connect(_sqlite_name(), timeout=30)
        try:
            # The backup API replaces every page under SQLite's own locks: other
            # connections see either the old database or the restored one, never a mix.
            source.backup(target)
        except sqlite3.Error as exc:
            raise BackupError(f"restore failed: {exc}") from exc
        finally:
            target.close()
    finally:
        source.close()
