"""`pingan keys generate | rotate | status | reindex`: field-encryption key management.

Operator steps are in docs/key-rotation.md: add the new key first in PINGAN_FIELD_KEYS,
rotate, check status, then remove the old key and reindex.
"""

from __future__ import annotations

import signal
from contextlib import contextmanager
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from tqdm import tqdm

from pingan.audit.context import Actor, acting_as, current_actor
from pingan.audit.log import record
from pingan.core.crypto import generate_key, key_id, keyring, reset_keyring, write_key_file
from pingan.ops.management import keyrotation
from pingan.ops.rotation import (
    RotationBusy,
    encrypted_columns,
    key_usage,
    pending_rows,
    rebuild_national_id_index,
    rotate_column,
    rotation_lock,
    unknown_keys,
)


@contextmanager
def _sigterm_as_exit():
    """`systemctl stop` or `kill` (SIGTERM) ends the run through Python, so it is audited."""

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class Command(BaseCommand):
    help = "Field-encryption keys: generate a key, rotate data to the newest key, show status."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        generate = sub.add_parser(
            "generate",
            help="Print a new key (a field key: add it FIRST in PINGAN_FIELD_KEYS; or a "
            "backup key for PINGAN_BACKUP_KEY). Needs no configuration.",
        )
        generate.add_argument(
            "--file",
            type=Path,
            help="write the key to this new file (mode 0600) instead of printing it",
        )
        rotate = sub.add_parser(
            "rotate",
            help="Re-encrypt every encrypted field under the newest key; resumable.",
        )
        rotate.add_argument("--batch", type=int, default=500, help="Rows per transaction.")
        rotate.add_argument("--no-progress", action="store_true", help="No progress bars.")
        sub.add_parser("status", help="Rows per encrypted field and key id.")
        sub.add_parser(
            "reindex",
            help="Rebuild the national-ID blind index (run after removing the oldest key).",
        )

    def handle(self, *args, subcommand: str, **options) -> None:
        if subcommand == "generate":
            self._generate(**options)  # touches no data, needs no keys
            return
        reset_keyring()  # the environment may have changed since the keyring was cached
        actor = current_actor()
        if not actor.username:
            actor = Actor(username="system", role="operator", ip="")
        with acting_as(actor):
            getattr(self, f"_{subcommand}")(**options)

    def _generate(self, file: Path | None = None, **options) -> None:
        key = generate_key()
        if file is None:
            self.stdout.write(key.decode("ascii"))
            return
        try:
            write_key_file(file, key)
        except FileExistsError:
            raise CommandError(
                _("%(path)s already exists; a key file is never overwritten.") % {"path": file}
            ) from None
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror}") from None
        self.stdout.write(
            _("New key %(id)s written to %(path)s (readable by its owner only).")
            % {"id": key_id(key), "path": file}
        )

    def _status(self, **options) -> None:
        ring = keyring()
        configured = [key_id(k) for k in ring.keys]
        self.stdout.write(f"configured keys (newest first): {', '.join(configured)}")
        behind = 0
        for col in encrypted_columns():
            usage = key_usage(col)
            parts = []
            for kid, n in sorted(usage.items()):
                if not kid:
                    parts.append(f"empty={n}")
                    continue
                tag = (
                    "current"
                    if kid == ring.current_id
                    else ("old" if kid in configured else "UNKNOWN KEY")
                )
                if kid != ring.current_id:
                    behind += n
                parts.append(f"{kid} ({tag})={n}")
            self.stdout.write(f"{col.label}: {', '.join(parts) or 'no rows'}")
        for run in keyrotation.open_runs():
            self.stdout.write(
                _(
                    "The rotation to key %(key)s started at %(at)s has not ended: it is "
                    "running, or it was interrupted (`pingan keys rotate` finishes it)."
                )
                % {"key": run.key, "at": formats.localize(run.at)}
            )
        if behind:
            self.stdout.write(
                f"{behind} value(s) not under the newest key: run `pingan keys rotate`"
            )
        else:
            self.stdout.write("every value is under the newest key")

    def _rotate(self, batch: int = 500, no_progress: bool = False, **options) -> None:
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        ring = keyring()
        try:
            with rotation_lock():
                self._rotate_locked(ring, batch, no_progress)
        except RotationBusy as busy:
            raise CommandError(str(busy)) from None

    def _rotate_locked(self, ring, batch: int, no_progress: bool) -> None:
        for run in keyrotation.record_interrupted("pingan keys rotate"):
            self.stderr.write(
                _(
                    "The rotation to key %(key)s started at %(at)s was interrupted; it is "
                    "now recorded as interrupted, and this run finishes the work."
                )
                % {"key": run.key, "at": formats.localize(run.at)}
            )
        unknown = unknown_keys(ring)
        if unknown:
            ids = sorted({kid for usage in unknown.values() for kid in usage})
            count = sum(n for usage in unknown.values() for n in usage.values())
            raise CommandError(
                ngettext(
                    "Nothing was rotated: %(count)d stored value is under key %(ids)s, which "
                    "is not in PINGAN_FIELD_KEYS. Add it after the newest key and run again "
                    "(`pingan keys status` shows where).",
                    "Nothing was rotated: %(count)d stored values are under key(s) %(ids)s, "
                    "not in PINGAN_FIELD_KEYS. Add them after the newest key and run again "
                    "(`pingan keys status` shows where).",
                    count,
                )
                % {"count": count, "ids": ", ".join(ids)}
            )
        run = keyrotation.start(ring.current_id)
        rewritten: dict[str, int] = {}
        try:
            with _sigterm_as_exit():
                for col in encrypted_columns():
                    todo = pending_rows(col, ring)
                    if not todo:
                        continue
                    with tqdm(
                        total=todo,
                        desc=col.label,
                        unit="rows",
                        disable=no_progress,
                        file=self.stderr._out,
                    ) as bar:
                        for done in rotate_column(col, batch=batch):
                            rewritten[col.label] = rewritten.get(col.label, 0) + done
                            bar.update(done)
                reindexed = rebuild_national_id_index(batch=batch)
        except BaseException as exc:
            try:
                keyrotation.interrupted(run, ring.current_id, type(exc).__name__, rewritten)
            except Exception:  # noqa: S110 — the first error is the one to report
                pass
            raise
        record(
            "keys_rotated",
            target=f"key:{ring.current_id}",
            run=run,
            rewritten=rewritten,
            total=sum(rewritten.values()),
            reindexed=reindexed,
        )
        self.stdout.write(
            f"rotated {sum(rewritten.values())} value(s) to key {ring.current_id}; "
            f"{reindexed} blind index value(s) rebuilt"
        )

    def _reindex(self, **options) -> None:
        changed = rebuild_national_id_index()
        record("keys_reindexed", target=f"key:{keyring().current_id}", changed=changed)
        self.stdout.write(f"{changed} blind index value(s) rebuilt")
