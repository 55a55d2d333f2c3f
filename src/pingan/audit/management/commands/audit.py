"""`pingan audit verify | checkpoint | keys | public-key`: the chain and its anchors.

- `verify [--checkpoint FILE]... [--public-key HEX]...`: walk every chain (the region's and
  each centre's), print each with its length and whether it holds (exit 0 when all do, 1
  listing every break by chain and entry); with checkpoint files, also every signed
  checkpoint a chain no longer agrees with, and every line of those files that is not a
  checkpoint signed by a trusted key.
- `checkpoint [--out FILE]...`: check every chain since its last checkpoint, sign each
  chain's head and append the checkpoints to the checkpoint file (and to each FILE, e.g.
  the region's copy).
- `keys`: print a fresh audit key and signing key for the environment (writes nothing).
- `public-key`: print the public half of the signing key, for whoever checks checkpoints.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from pingan.audit import anchor, keys
from pingan.audit.log import check
from pingan.audit.models import AuditEntry


class Command(BaseCommand):
    help = (
        "Audit log tools: verify the chain (against signed checkpoints too), take a signed"
        " checkpoint, print fresh keys or the checkpoint public key."
    )

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        verify = sub.add_parser(
            "verify",
            help="Check every chain; exit 0 when all are intact, 1 listing every break.",
        )
        verify.add_argument(
            "--no-progress", action="store_true", help="Do not show a progress bar."
        )
        verify.add_argument(
            "--checkpoint",
            action="append",
            default=[],
            type=Path,
            metavar="FILE",
            help="A checkpoint file (JSON lines) the log must agree with; may be repeated.",
        )
        verify.add_argument(
            "--public-key",
            action="append",
            default=[],
            metavar="HEX",
            help="Trust checkpoints signed by this public key too (`pingan audit public-key`"
            " on the centre that signed them); may be repeated.",
        )
        take = sub.add_parser(
            "checkpoint",
            help="Sign each chain's head and append the checkpoints to the checkpoint file.",
        )
        take.add_argument(
            "--out",
            action="append",
            default=[],
            type=Path,
            metavar="FILE",
            help="Also append the checkpoint to FILE (an export: a USB stick, the region's"
            " share); may be repeated.",
        )
        sub.add_parser("keys", help="Print a fresh audit key and checkpoint signing key.")
        sub.add_parser("public-key", help="Print the checkpoint signing key's public key.")

    def handle(self, *args, subcommand: str, **options) -> None:
        try:
            if subcommand == "verify":
                self._verify(options["checkpoint"], options["public_key"], options["no_progress"])
            elif subcommand == "checkpoint":
                self._checkpoint(options["out"])
            elif subcommand == "keys":
                for name, value in keys.fresh().items():
                    self.stdout.write(f"{name}={value}")
            else:
                self.stdout.write(keys.public_hex(keys.signing_key().public_key()))
        except (keys.AuditKeyError, anchor.CheckpointError) as error:
            raise CommandError(str(error)) from None

    def _verify(self, files: list[Path], public: list[str], no_progress: bool) -> None:
        checkpoints, problems = [], []
        if files:
            trusted = anchor.trusted_keys(public)
            for path in files:
                reading = anchor.read(path, trusted)
                checkpoints += reading.checkpoints
                problems += reading.problems
        total = AuditEntry.objects.count()
        rows = AuditEntry.objects.order_by("centre", "seq").iterator(chunk_size=2000)
        bar = tqdm(
            rows,
            total=total,
            unit="entries",
            disable=no_progress or total < 10_000,
            file=self.stderr._out,
        )
        # The same checkpoint in two files (the original and a copy) counts once.
        report = check(bar, {c.sig: c for c in checkpoints}.values())
        for problem in problems:
            self.stdout.write(f"rejected checkpoint: {problem}")
        for b in report.breaks:
            self.stdout.write(f"break at entry {b.seq}: {b.reason} ({b.chain})")
        for part in report.chains:
            name = f"centre {part.centre}" if part.centre is not None else "region"
            state = f"broken in {len(part.breaks)} place(s)" if part.breaks else "intact"
            self.stdout.write(f"chain {name}: {part.total} entries, {state}")
        if report.unkeyed:
            self.stdout.write(
                f"note: the first {report.unkeyed} entries were written before the chain was"
                " keyed (SHA-256 links only); the keyed entries after them seal them"
            )
        if report.breaks or problems:
            raise CommandError(
                f"audit chain broken in {len(report.breaks)} place(s),"
                f" {len(problems)} checkpoint(s) rejected",
                returncode=1,
            )
        message = f"audit chain intact: {total} entries"
        if files:
            message += f", agrees with {report.checkpoints_matched} signed checkpoint(s)"
        self.stdout.write(message)

    def _checkpoint(self, copies: list[Path]) -> None:
        where = f" appended to {anchor.default_path()}" + "".join(f" and {c}" for c in copies)
        for checkpoint in anchor.take_all(copies=copies):
            self.stdout.write(checkpoint.line())
            self.stderr.write(
                f"checkpoint of {checkpoint.date}, {checkpoint.chain} chain: entry"
                f" {checkpoint.seq}, head {checkpoint.head},{where}"
            )
