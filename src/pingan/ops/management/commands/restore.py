"""`pingan restore FILE`: replace the whole database with a backup (docs/backups.md)."""

import getpass
import os
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from pingan.audit.context import Actor, acting_as
from pingan.audit.log import record
from pingan.ops.backup import (
    BACKUP_KEY_ENV,
    BackupError,
    backup_key,
    check_restorable,
    restore,
)


class Command(BaseCommand):
    help = (
        "Replace the whole database with the backup in FILE, then verify the audit chain. "
        "The file is decrypted and checked whole before anything is written; a wrong key or "
        "an altered file is refused. Stop the server first. Asks for confirmation unless "
        "--yes is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="a file written by `pingan backup`")
        parser.add_argument(
            "--yes", action="store_true", help="overwrite the database without asking"
        )
        parser.add_argument(
            "--key-file",
            type=Path,
            help="file holding the backup key; default: the PINGAN_BACKUP_KEY environment variable",
        )
        parser.add_argument(
            "--unencrypted",
            action="store_true",
            help="accept an unencrypted backup made by an earlier version of Ping An",
        )

    def handle(
        self,
        *args,
        file: Path,
        yes: bool,
        key_file: Path | None,
        unencrypted: bool,
        **options,
    ):
        try:
            # An unencrypted backup needs no key; give one anyway to restore either kind.
            no_key = unencrypted and key_file is None and not os.environ.get(BACKUP_KEY_ENV)
            key = None if no_key else backup_key(key_file)
            check_restorable(file, key, allow_plain=unencrypted)
        except (BackupError, OSError) as exc:
            raise CommandError(str(exc)) from None
        if not yes:
            if not sys.stdin.isatty():
                raise CommandError(
                    _("Restoring overwrites the whole database; run again with --yes to confirm.")
                )
            answer = input(_("This overwrites the whole database. Type 'yes' to go on: "))
            if answer.strip().lower() != "yes":
                raise CommandError(_("Nothing restored."))
        try:
            result = restore(file, key, allow_plain=unencrypted)
        except (BackupError, OSError) as exc:
            raise CommandError(str(exc)) from None
        with acting_as(Actor(username=f"cli:{getpass.getuser()}", role="command")):
            record("restore", target=str(file.name), engine=result.engine)
        self.stdout.write(self.style.SUCCESS(_("Restored from %(path)s.") % {"path": file}))
        if result.audit_breaks:
            for b in result.audit_breaks:
                self.stderr.write(f"#{b.seq}: {b.reason}")
            raise CommandError(
                _("The restored audit log does not verify (%(count)d problems).")
                % {"count": len(result.audit_breaks)}
            )
        self.stdout.write(
            _("Audit log verified: %(count)d entries, chain intact.")
            % {"count": result.audit_entries}
        )
