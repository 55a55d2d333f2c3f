"""`pingan audit verify`: walk the hash chain and report every break (exit 1 if any)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from pingan.audit.log import verify
from pingan.audit.models import AuditEntry


class Command(BaseCommand):
    help = "Audit log tools. `verify` checks that no entry was edited, removed or reordered."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        check = sub.add_parser(
            "verify",
            help="Check the hash chain; exit 0 when intact, 1 listing every break.",
        )
        check.add_argument("--no-progress", action="store_true", help="Do not show a progress bar.")

    def handle(self, *args, subcommand: str, no_progress: bool = False, **options) -> None:
        if subcommand != "verify":  # argparse already refuses others; kept for clarity
            raise CommandError(f"unknown subcommand {subcommand}")
        total = AuditEntry.objects.count()
        rows = AuditEntry.objects.order_by("seq").iterator(chunk_size=2000)
        bar = tqdm(
            rows,
            total=total,
            unit="entries",
            disable=no_progress or total < 10_000,
            file=self.stderr._out,
        )
        breaks = verify(bar)
        if not breaks:
            self.stdout.write(f"audit chain intact: {total} entries")
            return
        for b in breaks:
            self.stdout.write(f"break at entry {b.seq}: {b.reason}")
        raise CommandError(f"audit chain broken in {len(breaks)} place(s)", returncode=1)
