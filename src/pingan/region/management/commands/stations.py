"""`pingan stations [--format table|json]` lists the police bureau's stations;
`pingan stations add --code C --name N` adds one; `pingan stations post --user LOGIN
(--station CODE | --bureau)` posts a police officer to a station or to the bureau
(docs/region.md)."""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from pingan.core.domain import operator
from pingan.region import actions
from pingan.region.models import PoliceStation


class Command(BaseCommand):
    help = "The police bureau's stations: list them, add one, or post an officer."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["table", "json"], default="table")
        sub = parser.add_subparsers(dest="action")
        add = sub.add_parser("add", help="add a police station")
        add.add_argument("--code", required=True, help="a short code, like PS01")
        add.add_argument("--name", required=True, help="the station's name")
        post = sub.add_parser("post", help="post a police officer to a station or the bureau")
        post.add_argument("--user", required=True, help="the officer's login")
        where = post.add_mutually_exclusive_group(required=True)
        where.add_argument("--station", help="the station's code")
        where.add_argument("--bureau", action="store_true", help="the bureau itself")

    def handle(self, *args, action: str | None = None, **options):
        with operator():
            try:
                if action == "add":
                    station = actions.add_station(options["code"], options["name"])
                    self.stdout.write(f"{station.code}\t{station.name}")
                    return
                if action == "post":
                    post = actions.assign_post(options["user"], options["station"])
                    where = post.station.code if post.station else "bureau"
                    self.stdout.write(f"{options['user']}\t{where}")
                    return
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
        rows = [
            {"code": s.code, "name": s.name, "officers": s.officers.count()}
            for s in PoliceStation.objects.order_by("code")
        ]
        if options["format"] == "json":
            self.stdout.write(json.dumps(rows, ensure_ascii=False))
            return
        for row in rows:
            self.stdout.write(f"{row['code']}\t{row['name']}\t{row['officers']}")
