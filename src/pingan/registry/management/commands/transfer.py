"""`pingan transfer --client CODE --to CENTRE --consent-on YYYY-MM-DD --reason TEXT --by LOGIN`:
transfer a client to another centre of the region, as the screen does (docs/region.md)."""

from __future__ import annotations

from datetime import date

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from pingan.core.models import Centre
from pingan.region.current import centres_of
from pingan.registry import actions
from pingan.registry.models import Client


class Command(BaseCommand):
    help = "Transfer a client for good to another centre of the region, with their consent."

    def add_arguments(self, parser):
        parser.add_argument("--client", required=True, help="the client's code")
        parser.add_argument("--to", required=True, help="the code of the centre they go to")
        parser.add_argument(
            "--consent-on", required=True, help="the day their consent was recorded, YYYY-MM-DD"
        )
        parser.add_argument("--reason", required=True, help="why the client is transferred")
        parser.add_argument("--by", required=True, help="login of the transferring clinician")

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(username=options["by"]).first()
        if user is None:
            raise CommandError(f"No user has the login {options['by']!r}.")
        to_centre = Centre.objects.filter(code=options["to"]).first()
        if to_centre is None:
            raise CommandError(f"No centre has the code {options['to']!r}.")
        try:
            consent_on = date.fromisoformat(options["consent_on"])
        except ValueError:
            raise CommandError(
                f"--consent-on: a day as YYYY-MM-DD, not {options['consent_on']!r}."
            ) from None
        # Codes are unique per centre: among several, the one at the clinician's centres.
        found = list(Client.objects.defer("photo").filter(code=options["client"])[:2])
        if len(found) > 1:
            mine = [c.pk for c in centres_of(user)]
            found = list(
                Client.objects.defer("photo").filter(code=options["client"], centre__in=mine)[:2]
            )
        if len(found) != 1:
            raise CommandError(f"No single client has the code {options['client']!r}.")
        try:
            moved = actions.transfer_client(
                found[0], to_centre, consent_on, options["reason"], user
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(
            f"{moved.client.code}\t{moved.from_centre.code}\t{moved.to_centre.code}\t"
            f"{moved.at.date().isoformat()}"
        )
