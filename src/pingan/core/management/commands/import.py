"""`pingan import DIR`: load legacy CSV records, all or nothing (docs/import-format.md)."""

import getpass
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from pingan.audit.context import Actor, acting_as
from pingan.imports.loader import ImportRejected, load_directory


class Command(BaseCommand):
    help = (
        "Load legacy records from the CSV files in DIR (clients.csv, doses.csv, urine.csv, "
        "tests.csv, discharges.csv). Every bad row is listed and nothing is written if any "
        "row is bad."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="folder holding the CSV files")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, directory: Path, no_progress: bool, **options):
        actor = Actor(username=f"cli:{getpass.getuser()}", role="command")
        try:
            with acting_as(actor):
                report = load_directory(directory, progress=not no_progress)
        except ImportRejected as rejected:
            for error in rejected.errors:
                self.stderr.write(str(error))
            raise CommandError(
                _("%(count)d bad rows; nothing was imported.") % {"count": len(rejected.errors)},
                returncode=1,
            ) from None
        for name, count in report.rows.items():
            self.stdout.write(f"{name}: {count}")
        self.stdout.write(
            self.style.SUCCESS(
                _("Imported: %(counts)s")
                % {"counts": ", ".join(f"{k} {v}" for k, v in report.created.items())}
            )
        )
