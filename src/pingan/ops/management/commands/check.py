"""`pingan check [--deploy]`: Ping An's start-up checks, then Django's system checks.

Run it before serving (`pingan serve` runs the same start-up checks and refuses on an
error): field keys against the stored values, the database, the time zone, the data
directory and its file modes, interrupted key rotations (recorded in the audit log as
such), the backup key. Then every registered system check, with `--deploy` the
deployment ones too. Exit status 1 if any start-up check fails.
"""

from __future__ import annotations

from django.core.management.base import CommandError
from django.core.management.commands import check as django_check
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from pingan.ops.management.startup import ERROR, WARNING, run_checks


class Command(django_check.Command):
    help = (
        "Check that Ping An can start: field keys decrypt the stored values, the database "
        "is reachable and migrated, the time zone, the data directory's permissions, "
        "interrupted key rotations; then Django's system checks (--deploy for production)."
    )

    def handle(self, *app_labels, **options):
        findings = run_checks("pingan check")
        for finding in findings:
            out = self.stderr if finding.level in (ERROR, WARNING) else self.stdout
            out.write(finding.line())
        errors = sum(f.level == ERROR for f in findings)
        super().handle(*app_labels, **options)
        if errors:
            raise CommandError(
                ngettext(
                    "%(count)d start-up check failed.",
                    "%(count)d start-up checks failed.",
                    errors,
                )
                % {"count": errors}
            )
        self.stdout.write(_("Ping An's start-up checks passed."))
