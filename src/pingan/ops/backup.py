"""Backing up and restoring the whole database, encrypted (docs/backups.md).

SQLite: Python's sqlite3 online backup API copies a consistent snapshot (while the server
keeps writing) into a private temporary file, which is then encrypted. PostgreSQL:
`pg_dump -Fc` streams straight into the encryption, so no clear copy touches a disk. The
file format is backup_format's (AES-256-GCM in authenticated chunks) under the backup key,
which comes from PINGAN_BACKUP_KEY or a key file and is kept outside the data directory.
Neither the backup key nor the field keys are in the backup.

A backup is written to FILE.tmp (mode 0600) and renamed only once complete, so a crash or a
full disk never leaves a half-written file under the real name. A restore decrypts and
authenticates the whole file into a private temporary file before the database is touched:
a wrong key, or a file altered anywhere, is refused and nothing is written.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import connection, connections
from django.utils.translation import gettext as _

from pingan.core.backup_format import SealError, backup_key_id, parse_key, read_header, seal, unseal

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"
ENGINES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
BACKUP_KEY_ENV = "PINGAN_BACKUP_KEY"


class BackupError(Exception):
    """A backup or restore that could not be done; the message says why."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    engine: str
    size: int
    sha256: str
    key_id: str


@dataclass(frozen=True)
class RestoreResult:
    engine: str
    audit_entries: int
    audit_breaks: list  # pingan.audit.log.Break


def current_engine() -> str:
    vendor = connection.vendor
    if vendor not in ENGINES:
        raise BackupError(
            _("Backups of a %(vendor)s database are not supported.") % {"vendor": vendor}
        )
    return vendor


def _inside_data_dir(path: Path) -> bool:
    return path.resolve().is_relative_to(Path(settings.DATA_DIR).resolve())


def backup_key(key_file: Path | None = None) -> bytes:
    """The backup key: from `key_file` if given, else PINGAN_BACKUP_KEY; refused when
    missing, malformed, or kept inside the data directory (then it protects nothing)."""
    if key_file is not None:
        key_file = Path(key_file)
        if _inside_data_dir(key_file):
            raise BackupError(
                _(
                    "The backup key file %(path)s is inside the data directory: keep it "
                    "elsewhere, or anyone with a copy of the folder can read the backups."
                )
                % {"path": key_file}
            )
        try:
            text = key_file.read_text(encoding="ascii", errors="replace")
        except OSError as exc:
            raise BackupError(f"{key_file}: {exc.strerror}") from None
        source = str(key_file)
    else:
        text = os.environ.get(BACKUP_KEY_ENV, "")
        if not text.strip():
            raise BackupError(
                _(
                    "No backup key: set PINGAN_BACKUP_KEY or give --key-file (make a key "
                    "with `pingan keys generate --file PATH`, outside the data directory)."
                )
            )
        source = BACKUP_KEY_ENV
    try:
        return parse_key(text)
    except SealError:
        raise BackupError(
            _(
                "%(source)s does not hold a backup key (32 bytes in URL-safe base64, as "
                "`pingan keys generate` prints)."
            )
            % {"source": source}
        ) from None


def file_engine(path: Path) -> str | None:
    """Which engine wrote an unencrypted database copy, from its first bytes (None: none)."""
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


@contextmanager
def _private_dir(purpose: str) -> Iterator[Path]:
    """A temporary folder only this user can enter (mkdtemp makes it 0700), for the clear
    copy of the database between the engine and the encryption; removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix=f"pingan-{purpose}-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _create_private(path: Path) -> BinaryIO:
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


def backup(path: Path, key: bytes) -> BackupResult:
    """Write an encrypted backup of the whole database to `path`."""
    path = Path(path)
    engine = current_engine()
    if not path.parent.is_dir():
        raise BackupError(
            _("The folder %(folder)s does not exist; create it first (mode 0700).")
            % {"folder": path.parent}
        )
    if path.is_dir():
        raise BackupError(_("%(path)s is a folder; give a file name.") % {"path": path})
    tmp = path.with_name(path.name + ".tmp")
    try:
        with _private_dir("backup") as work:
            tmp.unlink(missing_ok=True)
            with _create_private(tmp) as out:
                if engine == "sqlite":
                    plain = work / "database.sqlite3"
                    _sqlite_backup(plain)
                    with open(plain, "rb") as source:
                        seal(source, out, key, engine)
                else:
                    _pg_dump_sealed(out, key)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
            _fsync_dir(path.parent)
    except sqlite3.Error as exc:
        raise BackupError(
            _("The backup could not be written to %(path)s: %(reason)s")
            % {"path": path, "reason": exc}
        ) from None
    except OSError as exc:
        raise BackupError(
            _("The backup could not be written to %(path)s: %(reason)s")
            % {"path": exc.filename or path, "reason": exc.strerror or exc}
        ) from None
    finally:
        tmp.unlink(missing_ok=True)
    return BackupResult(path, engine, path.stat().st_size, _sha256(path), backup_key_id(key))


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sqlite_name() -> str:
    return str(connection.settings_dict["NAME"])


def _sqlite_backup(target_path: Path) -> None:
    source = sqlite3.connect(_sqlite_name(), timeout=30)
    # Created 0600 before SQLite opens it: this copy is in clear until it is sealed.
    _create_private(target_path).close()
    target = sqlite3.connect(target_path)
    try:
        source.backup(target)
        # One self-contained file (no -wal companion) that opens anywhere.
        target.execute("PRAGMA journal_mode=DELETE")
        ok = target.execute("PRAGMA integrity_check").fetchone()[0]
        if ok != "ok":
            raise BackupError(_("The copy fails SQLite's integrity check: %(ok)s") % {"ok": ok})
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


def _require(program: str) -> None:
    if shutil.which(program) is None:
        raise BackupError(
            _("%(program)s is not installed (apt-get install postgresql-client).")
            % {"program": program}
        )


def _failed(program: str, stderr: str) -> BackupError:
    return BackupError(
        _("%(program)s failed: %(error)s") % {"program": program, "error": stderr.strip()[-2000:]}
    )


def _run(argv: list[str], env: dict[str, str]) -> None:
    _require(argv[0])
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise _failed(argv[0], done.stderr)


class _FirstBytes:
    """A reader that remembers what its stream began with (to check the dump's format)."""

    def __init__(self, stream: BinaryIO):
        self.stream, self.head = stream, b""

    def read(self, size: int) -> bytes:
        data = self.stream.read(size)
        if len(self.head) < len(PG_MAGIC):
            self.head += data[: len(PG_MAGIC) - len(self.head)]
        return data


def _pg_dump_sealed(out: BinaryIO, key: bytes) -> None:
    _require("pg_dump")
    args, env = _pg_args()
    argv = ["pg_dump", "-Fc", *args, str(connection.settings_dict["NAME"])]
    with tempfile.TemporaryFile() as errors:
        dump = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=errors)
        source = _FirstBytes(dump.stdout)
        try:
            seal(source, out, key, "postgresql")
        finally:
            dump.stdout.close()
            status = dump.wait()
        if status != 0:
            errors.seek(0)
            raise _failed("pg_dump", errors.read().decode("utf-8", "replace"))
    if not source.head.startswith(PG_MAGIC):
        raise BackupError(_("pg_dump did not write its archive format."))


def check_restorable(path: Path, key: bytes | None = None, allow_plain: bool = False) -> str:
    """The engine of a backup that this installation can restore with `key`, or a clear
    refusal (not a backup, the other engine, another key, unencrypted)."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(_("%(path)s is not a file.") % {"path": path})
    with open(path, "rb") as f:
        try:
            header = read_header(f)
        except SealError as exc:
            raise _unseal_refusal(path, exc) from None
    if header is not None:
        found = header.engine
    else:
        found = file_engine(path)
        if found is None:
            raise BackupError(
                _("%(path)s is not a Ping An backup (not an encrypted backup file).")
                % {"path": path}
            )
        if not allow_plain:
            raise BackupError(
                _(
                    "%(path)s is an unencrypted backup, made before backups were encrypted. "
                    "Restore it with --unencrypted if you trust where it was kept."
                )
                % {"path": path}
            )
    engine = current_engine()
    if found != engine:
        raise BackupError(
            _(
                "%(path)s is a %(found)s backup but this installation runs on %(engine)s; "
                "restore it into a %(found)s installation."
            )
            % {"path": path, "found": ENGINES[found], "engine": ENGINES[engine]}
        )
    if header is not None and key is not None and header.key_id != backup_key_id(key):
        raise _unseal_refusal(
            path, SealError("wrong_key", file_key=header.key_id, given_key=backup_key_id(key))
        )
    return engine


def _unseal_refusal(path: Path, exc: SealError) -> BackupError:
    if exc.reason == "wrong_key":
        message = _(
            "%(path)s was encrypted with backup key %(file_key)s, but the key given is "
            "%(given_key)s. Nothing was restored."
        )
    elif exc.reason == "version":
        message = _("%(path)s was written by a newer version of Ping An (format %(version)s).")
    else:
        message = _(
            "%(path)s is damaged or has been altered: it fails authentication. Nothing was "
            "restored."
        )
    return BackupError(message % {"path": path, **exc.facts})


def restore(path: Path, key: bytes | None, allow_plain: bool = False) -> RestoreResult:
    """Replace the whole database with the backup, then verify the audit chain."""
    from pingan.audit.log import verify
    from pingan.audit.models import AuditEntry

    path = Path(path)
    engine = check_restorable(path, key, allow_plain)
    with _private_dir("restore") as work:
        with open(path, "rb") as f:
            sealed = read_header(f) is not None
        if sealed:
            plain = work / "database"
            _decrypt(path, plain, key)
            if file_engine(plain) != engine:
                raise BackupError(
                    _("%(path)s decrypts, but not to a %(engine)s backup.")
                    % {"path": path, "engine": ENGINES[engine]}
                )
        else:
            plain = path
        if engine == "sqlite":
            _sqlite_restore(plain)
        else:
            _pg_restore(plain)
    connections.close_all()
    return RestoreResult(engine, AuditEntry.objects.count(), verify())


def _decrypt(path: Path, plain: Path, key: bytes | None) -> None:
    if key is None:
        raise BackupError(_("%(path)s is encrypted: a backup key is needed.") % {"path": path})
    try:
        with open(path, "rb") as source, _create_private(plain) as out:
            unseal(source, out, key)
    except SealError as exc:
        raise _unseal_refusal(path, exc) from None
    except OSError as exc:
        raise BackupError(
            _(
                "%(path)s could not be decrypted into %(folder)s: %(reason)s. Nothing was "
                "restored (TMPDIR chooses another folder)."
            )
            % {"path": path, "folder": plain.parent, "reason": exc.strerror or exc}
        ) from None


def _pg_restore(plain: Path) -> None:
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
            str(plain),
        ],
        env,
    )
    connections.close_all()
    # A dump carries no planner statistics: until autovacuum gets round to it, the
    # restored tables would be planned as empty (nightly lists, indicators).
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _sqlite_restore(path: Path) -> None:
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        ok = source.execute("PRAGMA integrity_check").fetchone()[0]
        if ok != "ok":
            raise BackupError(
                _("%(path)s fails SQLite's integrity check: %(ok)s") % {"path": path, "ok": ok}
            )
        has_schema = source.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='django_migrations'"
        ).fetchone()
        if not has_schema:
            raise BackupError(
                _("%(path)s is an SQLite file but not a Ping An database.") % {"path": path}
            )
        connections.close_all()
        target = sqlite3.connect(_sqlite_name(), timeout=30)
        try:
            # The backup API replaces every page under SQLite's own locks: other
            # connections see either the old database or the restored one, never a mix.
            source.backup(target)
        except sqlite3.Error as exc:
            raise BackupError(_("The restore failed: %(error)s") % {"error": exc}) from exc
        finally:
            target.close()
    finally:
        source.close()
