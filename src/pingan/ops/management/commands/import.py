"""`pingan import DIR`: load legacy CSV records, all or nothing (docs/import-format.md)."""

import getpass
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from pingan.audit.context import Actor, acting_as
from pingan.core.models import Centre
from pingan.imports.loader import ImportRejected, load_directory
from pingan.imports.write import KINDS


def _languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def _language_in(argv: list[str]) -> str:
    """The --language given on the command line, read before argparse runs so that --help
    and argparse's own complaints come in that language too; else the centre's default."""
    for i, arg in enumerate(argv):
        value = None
        if arg == "--language" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--language="):
            value = arg.partition("=")[2]
        if value in _languages():
            return value
    return settings.LANGUAGE_CODE


class Command(BaseCommand):
    @property
    def help(self) -> str:
        """Read when the parser is made, so in the language of the run."""
        return _(
            "Load legacy records from the CSV files in DIR (clients.csv, doses.csv, "
            "urine.csv, tests.csv, discharges.csv). Every bad row is listed and nothing is "
            "written if any row is bad."
        )

    def add_arguments(self, parser):
        parser.add_argument(
            "directory", type=Path, help=gettext_lazy("folder holding the CSV files")
        )
        parser.add_argument(
            "--no-progress", action="store_true", help=gettext_lazy("no progress bar")
        )
        parser.add_argument(
            "--centre",
            metavar="CODE",
            help=gettext_lazy(
                "the centre the records belong to, by its code (default: the installation's centre)"
            ),
        )
        parser.add_argument(
            "--language",
            choices=_languages(),
            default=settings.LANGUAGE_CODE,
            help=gettext_lazy(
                "language of the report: every bad row's reason, the counts and this help "
                "(default: %(default)s, the centre's language)"
            ),
        )

    def run_from_argv(self, argv):
        """From the shell: the chosen language already applies while parsing (--help)."""
        with translation.override(_language_in(argv)):
            super().run_from_argv(argv)

    def execute(self, *args, **options):
        """From the shell or call_command(): the whole run speaks the chosen language,
        including the reasons the import gives for each bad row."""
        with translation.override(options.get("language") or settings.LANGUAGE_CODE):
            return super().execute(*args, **options)

    def handle(self, *args, directory: Path, no_progress: bool, **options):
        actor = Actor(username=f"cli:{getpass.getuser()}", role="command")
        centre = None
        if options.get("centre"):
            centre = Centre.objects.filter(code=options["centre"]).first()
            if centre is None:
                raise CommandError(
                    _("No centre has the code %(code)s.") % {"code": options["centre"]},
                    returncode=1,
                )
        try:
            with acting_as(actor):
                report = load_directory(directory, progress=not no_progress, centre=centre)
        except ImportRejected as rejected:
            for error in rejected.errors:
                self.stderr.write(str(error))
            raise CommandError(str(rejected), returncode=1) from None
        for name, count in report.rows.items():
            self.stdout.write(
                ngettext("%(file)s: %(count)d row", "%(file)s: %(count)d rows", count)
                % {"file": name, "count": count}
            )
        counts = pgettext("list separator", ", ").join(
            f"{KINDS.get(kind, kind)} {count}" for kind, count in report.created.items()
        )
        self.stdout.write(self.style.SUCCESS(_("Imported: %(counts)s") % {"counts": counts}))
