"""`pingan membership add --user U --centre C`: let a staff member work in a centre."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from pingan.core.domain import operator
from pingan.region import actions


class Command(BaseCommand):
    help = "Staff membership of the region's centres."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="let a staff member work in a centre")
        add.add_argument("--user", required=True, help="the staff member's user name")
        add.add_argument("--centre", required=True, help="the centre's code")

    def handle(self, *args, action: str, user: str, centre: str, **options):
        with operator():
            try:
                actions.add_membership(user, centre)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"{user} may work in {centre}")
