"""`pingan guest issue --client CODE --host CENTRE --from D --to D --by LOGIN --out FILE`
issues a guest slip (as `dosing.actions.issue_guest_slip`, in the named clinician's name)
and writes it as a signed slip file (`pingan-guest-slip/1`, docs/region.md) for a host
outside the installation; `pingan guest key` prints the public key that verifies it.

The installation signs with its Ed25519 checkpoint key (`audit.keys.signing_key`): until
each centre has a key of its own, that key is every centre's of this installation."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from pingan.audit.keys import public_hex, signing_key
from pingan.core.models import Centre
from pingan.dosing import actions, queries
from pingan.region import signed, slips
from pingan.registry.models import Client


def _day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--{name}: a day as YYYY-MM-DD, not {text!r}.") from None


def slip_document(slip) -> dict:
    """The signed file's document for a stored slip (no photo: the host has its own)."""
    client = slip.client
    facts = queries.client_facts(client, timezone.localdate(slip.issued_at))
    return slips.GuestSlip(
        slip_id=str(slip.external_id),
        home_centre=client.centre.code,
        host_centre=slip.host.code,
        client_code=client.code,
        valid_from=slip.valid_from,
        valid_to=slip.valid_to,
        dose_mg=slip.dose_mg,
        last_dose_on=facts.last_dose_date,
        takehome="",
        holds=(),
        issued_at=slip.issued_at,
    ).document()


class Command(BaseCommand):
    help = "Guest slips: issue one as a signed file, or print the key that verifies it."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        issue = sub.add_parser("issue", help="issue a guest slip and write it signed")
        issue.add_argument("--client", required=True, help="the client's code")
        issue.add_argument("--host", required=True, help="the host centre's code")
        issue.add_argument("--from", dest="first", required=True, help="first day, YYYY-MM-DD")
        issue.add_argument("--to", dest="last", required=True, help="last day, YYYY-MM-DD")
        issue.add_argument("--by", required=True, help="login of the issuing clinician")
        issue.add_argument("--out", required=True, help="the slip file to write")
        sub.add_parser("key", help="the installation's public key (hex) and its id")

    def handle(self, *args, action: str, **options):
        key = signing_key()
        if action == "key":
            self.stdout.write(f"{signed.key_id(key.public_key())}\t{public_hex(key.public_key())}")
            return
        found = list(Client.objects.defer("photo").filter(code=options["client"])[:2])
        if len(found) != 1:
            raise CommandError(f"No single client has the code {options['client']!r}.")
        host = Centre.objects.filter(code=options["host"]).first()
        if host is None:
            raise CommandError(f"No centre has the code {options['host']!r}.")
        user = get_user_model().objects.filter(username=options["by"]).first()
        if user is None:
            raise CommandError(f"No user has the login {options['by']!r}.")
        first, last = _day(options["first"], "from"), _day(options["last"], "to")
        try:
            slip = actions.issue_guest_slip(found[0], host, first, last, user)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        data = signed.sign(slip_document(slip), key)
        Path(options["out"]).write_bytes(data)
        self.stdout.write(f"{slip.external_id}\t{options['out']}")
