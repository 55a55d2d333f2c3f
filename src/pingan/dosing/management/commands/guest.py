"""`pingan guest …`: guest slips and dose returns as signed files between this installation
and centres outside it (docs/region.md, "Guests from outside the installation").

- `issue --client CODE --host CENTRE --from D --to D --by LOGIN --out FILE` issues a slip
  (as `dosing.actions.issue_guest_slip`, in the named clinician's name) and writes it
  signed by the home centre (`pingan-guest-slip/1`); `key [--centre CODE] [--format json]`
  prints each centre's public key, as JSON the key list this region publishes.
- `keys`, `keys add --centre CODE --name NAME --key HEX`, `keys import FILE`,
  `keys remove --centre CODE --key-id ID`: the key list of the centres outside the
  installation (`dosing.outside_keys`).
- `import FILE [--centre HOST]`: a slip signed outside, read at the host
  (`dosing.visiting.import_slip`).
- `returns --out FILE [--slip SLIP_ID]`: the host's signed dose return(s).
- `import-returns FILE`: a dose return read back at home.

Each centre signs with a key of its own (`region.signed.centre_key`: derived from the
installation's Ed25519 checkpoint key, `audit.keys.signing_key`, and the centre's code).
Every refusal exits non-zero with its reason, and writes nothing."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from pingan.audit.keys import public_hex, signing_key
from pingan.core.domain import operator
from pingan.core.models import Centre
from pingan.dosing import actions, outside_keys, queries, slip_photos, visiting
from pingan.dosing.models import OutsideCentreKey
from pingan.region import signed, slips
from pingan.registry.models import Client


def _day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--{name}: a day as YYYY-MM-DD, not {text!r}.") from None


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(signed.MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None


def slip_document(slip, photo_jpeg_b64: str = "") -> dict:
    """The signed file's document for a stored slip, with the client's photo (base64 JPEG,
    `slip_photos.slip_photo`; empty inside the installation, where the host has the record)."""
    client = slip.client
    facts = queries.client_facts(client, timezone.localdate(slip.issued_at))
    return slips.GuestSlip(
        slip_id=str(slip.external_id),
        home_centre=client.centre.code,
        host_centre=slip.host.code if slip.host_id else slip.outside_host,
        client_code=client.code,
        valid_from=slip.valid_from,
        valid_to=slip.valid_to,
        dose_mg=slip.dose_mg,
        last_dose_on=facts.last_dose_date,
        takehome="",
        holds=(),
        issued_at=slip.issued_at,
        photo_jpeg_b64=photo_jpeg_b64,
    ).document()


class Command(BaseCommand):
    help = "Guest slips and dose returns as signed files, and the key list that checks them."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        issue = sub.add_parser("issue", help="issue a guest slip and write it signed")
        issue.add_argument("--client", required=True, help="the client's code")
        issue.add_argument("--host", required=True, help="the host centre's code")
        issue.add_argument("--from", dest="first", required=True, help="first day, YYYY-MM-DD")
        issue.add_argument("--to", dest="last", required=True, help="last day, YYYY-MM-DD")
        issue.add_argument("--by", required=True, help="login of the issuing clinician")
        issue.add_argument("--out", required=True, help="the slip file to write")
        key = sub.add_parser(
            "key", help="each centre's public key (the key list this region publishes)"
        )
        key.add_argument("--centre", help="one centre's code (default: every centre)")
        key.add_argument("--format", choices=["table", "json"], default="table")
        keys = sub.add_parser("keys", help="the keys of centres outside the installation")
        keys_sub = keys.add_subparsers(dest="keys_action")
        add = keys_sub.add_parser("add", help="trust one key of a centre outside")
        add.add_argument("--centre", required=True, help="the centre's code")
        add.add_argument("--name", required=True, help="the centre's name")
        add.add_argument("--key", required=True, help="its Ed25519 public key, 64 hex digits")
        load = keys_sub.add_parser("import", help="store a published key list (JSON)")
        load.add_argument("file")
        drop = keys_sub.add_parser("remove", help="stop trusting one key of a centre outside")
        drop.add_argument("--centre", required=True, help="the centre's code")
        drop.add_argument("--key-id", required=True, help="the key's id (16 hex digits)")
        read = sub.add_parser("import", help="read a slip signed outside, at the host")
        read.add_argument("file")
        read.add_argument("--centre", help="the host centre's code (default: the only one)")
        returns = sub.add_parser("returns", help="write the signed dose return of a slip")
        returns.add_argument("--out", required=True, help="the file (a folder without --slip)")
        returns.add_argument("--slip", help="the slip's id (default: every imported slip)")
        back = sub.add_parser("import-returns", help="read a dose return back at home")
        back.add_argument("file")

    def handle(self, *args, action: str, **options):
        handler = {
            "issue": self.issue,
            "key": self.key,
            "keys": self.keys,
            "import": self.import_slip,
            "returns": self.returns,
            "import-returns": self.import_returns,
        }[action]
        try:
            with operator():
                handler(options)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None

    def key(self, options) -> None:
        """Each centre's public key: a table (code, key id, key), or the JSON key list
        (docs/region.md) other regions import with `pingan guest keys import`."""
        centres = Centre.objects.order_by("code")
        if options.get("centre"):
            centres = centres.filter(code=options["centre"])
            if not centres.exists():
                raise CommandError(f"No centre has the code {options['centre']!r}.")
        # Each centre's current key first, then any it retired within the grace period (a
        # slip signed just before a rotation still verifies outside); the table shows the
        # current one.
        published = {c.code: signed.published_keys(signing_key(), c.code) for c in centres}
        if options.get("format") == "json":
            listed = {code: [public_hex(k) for k in keys] for code, keys in published.items()}
            self.stdout.write(json.dumps(listed, ensure_ascii=False, sort_keys=True))
            return
        for code, (public, *_retired) in published.items():
            self.stdout.write(f"{code}\t{signed.key_id(public)}\t{public_hex(public)}")

    def issue(self, options) -> None:
        found = list(Client.objects.defer("photo").filter(code=options["client"])[:2])
        if len(found) != 1:
            raise CommandError(f"No single client has the code {options['client']!r}.")
        host = Centre.objects.filter(code=options["host"]).first()
        if host is None and outside_keys.is_listed(options["host"]):
            host = options["host"]  # a centre outside the installation, in the key list
        if host is None:
            raise CommandError(
                f"No centre has the code {options['host']!r}, here or in the key list."
            )
        user = get_user_model().objects.filter(username=options["by"]).first()
        if user is None:
            raise CommandError(f"No user has the login {options['by']!r}.")
        first, last = _day(options["first"], "from"), _day(options["last"], "to")
        # The photo is checked before the slip is issued: a refused photo issues nothing.
        photo = slip_photos.slip_photo(found[0]) if isinstance(host, str) else ""
        with transaction.atomic():
            slip = actions.issue_guest_slip(found[0], host, first, last, user)
            data = signed.sign(
                slip_document(slip, photo),
                signed.centre_key(signing_key(), slip.client.centre.code),
            )
            if len(data) > signed.MAX_FILE_BYTES:
                raise CommandError("The slip file would be larger than a host accepts.")
        Path(options["out"]).write_bytes(data)
        self.stdout.write(f"{slip.external_id}\t{options['out']}")

    def keys(self, options) -> None:
        what = options.get("keys_action")
        if what == "add":
            row = outside_keys.add_key(options["centre"], options["name"], options["key"])
            self.stdout.write(f"{row.centre_code}\t{row.key_id}\tadded")
            return
        if what == "import":
            added = outside_keys.import_key_list(_read(options["file"]))
            for row in added:
                self.stdout.write(f"{row.centre_code}\t{row.key_id}\tadded")
            self.stdout.write(f"{len(added)} key(s) added")
            return
        if what == "remove":
            row = outside_keys.remove_key(options["centre"], options["key_id"])
            self.stdout.write(f"{row.centre_code}\t{row.key_id}\tremoved")
            return
        for row in OutsideCentreKey.objects.all():
            self.stdout.write(
                "\t".join(
                    [
                        row.centre_code,
                        row.centre_name,
                        row.key_id,
                        row.public_key_hex,
                        row.added_at.isoformat(),
                        row.added_by,
                    ]
                )
            )

    def import_slip(self, options) -> None:
        data = _read(options["file"])
        if options.get("centre"):
            host = Centre.objects.filter(code=options["centre"]).first()
            if host is None:
                raise CommandError(f"No centre has the code {options['centre']!r}.")
        else:
            centres = list(Centre.objects.order_by("pk")[:2])
            if len(centres) != 1:
                raise CommandError("Name the host centre: --centre CODE.")
            host = centres[0]
        visit = visiting.import_slip(data, host)
        self.stdout.write(
            f"{visit.slip_id}\t{visit.client.code}\t{visit.valid_from}\t{visit.valid_to}"
            f"\t{visit.dose_mg} mg"
        )

    def returns(self, options) -> None:
        visits = visiting.visits_for_return(options.get("slip"))
        out = Path(options["out"])
        if options.get("slip"):
            data, returned = visiting.write_return(visits[0])
            out.write_bytes(data)
            self.stdout.write(f"{returned.return_id}\t{len(returned.doses)} dose(s)\t{out}")
            return
        if not out.is_dir():
            raise CommandError(f"{out} is not a folder: without --slip, one file per slip.")
        for visit in visits:
            data, returned = visiting.write_return(visit)
            path = out / f"dose-return-{visit.slip_id}.json"
            path.write_bytes(data)
            self.stdout.write(f"{returned.return_id}\t{len(returned.doses)} dose(s)\t{path}")

    def import_returns(self, options) -> None:
        received = visiting.import_return(_read(options["file"]))
        count = received.slip.returned_doses.filter(return_id=received.return_id).count()
        self.stdout.write(f"{received.return_id}\t{received.slip.client.code}\t{count} dose(s)")
