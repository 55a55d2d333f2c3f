"""`pingan centres [--format table|json]` lists the region's centres; `pingan centres add
--code C --name N` adds one (docs/region.md)."""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from pingan.core.domain import operator
from pingan.core.models import Centre
from pingan.region import actions


class Command(BaseCommand):
    help = "The region's centres: list them, or add one."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["table", "json"], default="table")
        sub = parser.add_subparsers(dest="action")
        add = sub.add_parser("add", help="add a centre to the region")
        add.add_argument("--code", required=True, help="a short code, like C01")
        add.add_argument("--name", required=True, help="the centre's name")

    def handle(self, *args, action: str | None = None, **options):
        if action == "add":
            with operator():
                try:
                    centre = actions.add_centre(options["code"], options["name"])
                except ValidationError as exc:
                    raise CommandError(" ".join(exc.messages)) from None
            self.stdout.write(f"{centre.code}\t{centre.name}")
            return
        centres = [{"code": c.code, "name": c.name} for c in Centre.objects.order_by("code")]
        if options["format"] == "json":
            self.stdout.write(json.dumps(centres, ensure_ascii=False))
            return
        for c in centres:
            self.stdout.write(f"{c['code']}\t{c['name']}")
