"""`pingan backup FILE`: a consistent copy of the whole database (docs/backups.md)."""

import getpass
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from pingan.audit.context import Actor, acting_as
from pingan.audit.log import record
from pingan.core.backup import BackupError, backup


class Command(BaseCommand):
    help = (
        "Back up the whole database to FILE (SQLite online backup, or pg_dump -Fc). "
        "The field encryption keys are not included: keep them separately."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="where to write the backup")

    def handle(self, *args, file: Path, **options):
        try:
            result = backup(file)
        except (BackupError, OSError) as exc:
            raise CommandError(str(exc)) from None
        with acting_as(Actor(username=f"cli:{getpass.getuser()}", role="command")):
            record("backup", target=str(file.name), engine=result.engine, sha256=result.sha256)
        self.stdout.write(
            self.style.SUCCESS(
                _("Backup written: %(path)s (%(engine)s, %(size)d bytes, sha256 %(sha)s)")
                % {
                    "path": result.path,
                    "engine": result.engine,
                    "size": result.size,
                    "sha": result.sha256,
                }
            )
        )
        self.stdout.write(
            _("The field encryption keys are not in the backup; keep them separately.")
        )
