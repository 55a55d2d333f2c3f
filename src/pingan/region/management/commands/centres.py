"""`pingan centres [--format table|json]` lists the region's centres; `pingan centres add
--code C --name N` adds one; `pingan centres rotate-key --centre C` gives one centre a new
signing key and prints its key id and public key (docs/region.md)."""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from pingan.audit.keys import public_hex, signing_key
from pingan.core.domain import operator
from pingan.core.models import Centre
from pingan.region import actions, signed


class Command(BaseCommand):
    help = "The region's centres: list them, add one, or rotate one centre's signing key."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["table", "json"], default="table")
        sub = parser.add_subparsers(dest="action")
        add = sub.add_parser("add", help="add a centre to the region")
        add.add_argument("--code", required=True, help="a short code, like C01")
        add.add_argument("--name", required=True, help="the centre's name")
        rotate = sub.add_parser(
            "rotate-key",
            help="give one centre a new signing key; prints its key id and public key",
        )
        rotate.add_argument("--centre", required=True, help="the centre's code, like C01")

    def handle(self, *args, action: str | None = None, **options):
        if action == "add":
            with operator():
                try:
                    centre = actions.add_centre(options["code"], options["name"])
                except ValidationError as exc:
                    raise CommandError(" ".join(exc.messages)) from None
            self.stdout.write(f"{centre.code}\t{centre.name}")
            return
        if action == "rotate-key":
            with operator():
                try:
                    made = actions.rotate_centre_key(options["centre"])
                except ValidationError as exc:
                    raise CommandError(" ".join(exc.messages)) from None
            public = signed.centre_key(signing_key(), made.centre.code).public_key()
            self.stdout.write(
                f"{made.centre.code}\t{signed.key_id(public)}\t{public_hex(public)}"
                f"\tgeneration {made.generation}"
            )
            return
        centres = [{"code": c.code, "name": c.name} for c in Centre.objects.order_by("code")]
        if options["format"] == "json":
            self.stdout.write(json.dumps(centres, ensure_ascii=False))
            return
        for c in centres:
            self.stdout.write(f"{c['code']}\t{c['name']}")
