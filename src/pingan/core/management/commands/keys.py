"""`pingan keys generate | rotate | status | reindex`: field-encryption key management.

Operator steps are in docs/key-rotation.md: add the new key first in PINGAN_FIELD_KEYS,
rotate, check status, then remove the old key and reindex.
"""

from __future__ import annotations

from cryptography.fernet import Fernet
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from pingan.audit.context import Actor, acting_as, current_actor
from pingan.audit.log import record
from pingan.core.crypto import key_id, keyring, reset_keyring
from pingan.core.rotation import (
    encrypted_columns,
    key_usage,
    pending_rows,
    rebuild_national_id_index,
    rotate_column,
)


class Command(BaseCommand):
    help = "Field-encryption keys: generate a key, rotate data to the newest key, show status."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser(
            "generate", help="Print a new Fernet key (add it FIRST in PINGAN_FIELD_KEYS)."
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
        reset_keyring()  # the environment may have changed since the keyring was cached
        actor = current_actor()
        if not actor.username:
            actor = Actor(username="system", role="operator", ip="")
        with acting_as(actor):
            getattr(self, f"_{subcommand}")(**options)

    def _generate(self, **options) -> None:
        self.stdout.write(Fernet.generate_key().decode("ascii"))

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
        rewritten: dict[str, int] = {}
        for col in encrypted_columns():
            todo = pending_rows(col, ring)
            if not todo:
                continue
            with tqdm(
                total=todo, desc=col.label, unit="rows", disable=no_progress, file=self.stderr._out
            ) as bar:
                for done in rotate_column(col, batch=batch):
                    rewritten[col.label] = rewritten.get(col.label, 0) + done
                    bar.update(done)
        reindexed = rebuild_national_id_index(batch=batch)
        record(
            "keys_rotated",
            target=f"key:{ring.current_id}",
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
