"""`pingan fhir export | expire`: FHIR R4 Bulk Data export of the centre's records.

- `export --out DIR [--since DATE] [--centre CODE] [--types T,...] [--audience cdc|police]
  [--validate]`: one NDJSON file per resource type and the Bulk Data manifest, in DIR
  (new, or empty), with a progress bar. docs/fhir.md says what is exported and what never is.
- `expire`: delete the files of exports asked for over HTTP whose time is up (the status
  and download pages do it too; run it from cron to keep the disk clean without visits).
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pingan.core.domain import Refusal, operator

from ... import actions, bulk
from ...fhir import TYPES


class Command(BaseCommand):
    help = gettext_lazy(
        "FHIR R4 Bulk Data export (NDJSON per resource type and a manifest), and the "
        "clean-up of expired exports."
    )

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        export = sub.add_parser("export", help=str(gettext_lazy("Write the export to a folder.")))
        export.add_argument(
            "--out",
            required=True,
            type=Path,
            metavar="DIR",
            help=str(gettext_lazy("folder to create (or an empty one)")),
        )
        export.add_argument(
            "--since",
            metavar="DATE",
            help=str(gettext_lazy("only records dated on or after this day (YYYY-MM-DD)")),
        )
        export.add_argument(
            "--centre",
            metavar="CODE",
            help=str(gettext_lazy("the centre's code (default: this installation's centre)")),
        )
        export.add_argument(
            "--types",
            metavar="TYPES",
            help=str(gettext_lazy("comma-separated resource types (default: all): %(types)s"))
            % {"types": ", ".join(TYPES)},
        )
        export.add_argument(
            "--audience",
            choices=("cdc", "police"),
            default="cdc",
            help=str(
                gettext_lazy(
                    "cdc: every record, pseudonymous; police: organisations and measures only, "
                    "small cells suppressed (default: cdc)"
                )
            ),
        )
        export.add_argument(
            "--validate",
            action="store_true",
            help=str(gettext_lazy("check every resource against the FHIR R4B models (slower)")),
        )
        export.add_argument(
            "--no-progress", action="store_true", help=str(gettext_lazy("no progress bar"))
        )
        sub.add_parser("expire", help=str(gettext_lazy("Delete expired HTTP exports.")))

    def handle(self, *args, **options) -> None:
        with operator():
            if options["subcommand"] == "expire":
                count = actions.expire()
                self.stdout.write(_("%(count)d expired exports deleted.") % {"count": count})
                return
            self._export(options)

    def _export(self, options: dict) -> None:
        from tqdm import tqdm

        try:
            request = bulk.ask(
                types=options["types"],
                since=options["since"],
                centre=options["centre"],
                audience=options["audience"],
            )
            total = bulk.expected(request, bulk.scopes_of(request))
            show = not options["no_progress"] and sys.stderr.isatty()
            with tqdm(
                total=total, disable=not show, unit=" resources", unit_scale=True, desc="FHIR"
            ) as bar:
                written = actions.export_folder(
                    request, options["out"], progress=bar.update, validate=options["validate"]
                )
        except Refusal as refusal:
            raise CommandError(refusal.message) from refusal
        for name, count in written.counts.items():
            self.stdout.write(f"{name:<26} {count:>12,}")
        self.stdout.write(
            _("%(total)s resources written to %(path)s")
            % {
                "total": f"{written.total:,}",
                "path": options["out"],
            }
        )
