"""`pingan backup FILE`: an encrypted, consistent copy of the whole database (docs/backups.md)."""

import getpass
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from pingan.audit.context import Actor, acting_as
from pingan.audit.log import record
from pingan.ops.backup import BackupError, backup, backup_key


class Command(BaseCommand):
    help = (
        "Back up the whole database to FILE, encrypted with the backup key "
        "(PINGAN_BACKUP_KEY or --key-file; SQLite online backup, or pg_dump -Fc). The file "
        "is readable by its owner only. The keys are not included: keep them separately."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="where to write the backup")
        parser.add_argument(
            "--key-file",
            type=Path,
            help="file holding the backup key (outside the data directory); default: the "
            "PINGAN_BACKUP_KEY environment variable",
        )

    def handle(self, *args, file: Path, key_file: Path | None, **options):
        try:
            result = backup(file, backup_key(key_file))
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        with acting_as(Actor(username=f"cli:{getpass.getuser()}", role="command")):
            record(
                "backup",
                target=str(file.name),
                engine=result.engine,
                sha256=result.sha256,
                backup_key=result.key_id,
            )
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Backup written: %(path)s (%(engine)s, %(size)d bytes, encrypted with "
                    "backup key %(key)s, sha256 %(sha)s)"
                )
                % {
                    "path": result.path,
                    "engine": result.engine,
                    "size": result.size,
                    "key": result.key_id,
                    "sha": result.sha256,
                }
            )
        )
        self.stdout.write(
            _(
                "Neither the backup key nor the field encryption keys are in the backup; "
                "keep them separately."
            )
        )
