"""`pingan box pin|issue|retire|simulate|purge-locations` (docs/architecture.md, Contracts)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.core import clock
from pingan.core.domain import operator
from pingan.lockbox import actions, not_opened, pin
from pingan.lockbox.models import Box
from pingan.lockbox.simulator import ReferenceBox
from pingan.registry.models import Client


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"not a date (YYYY-MM-DD): {text}") from exc


class Command(BaseCommand):
    help = "Lockboxes: the day's PIN, issuing and retiring boxes, and the reference box simulator."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("pin", help="print the PIN of a secret for a day")
        p.add_argument("--secret", required=True, help="the box secret, 40 hex characters")
        p.add_argument("--date", required=True, help="YYYY-MM-DD")

        p = sub.add_parser("issue", help="issue a new box to a client; prints its secret once")
        p.add_argument("--client", required=True, help="client code")
        p.add_argument("--format", choices=["text", "json"], default="text")

        p = sub.add_parser("retire", help="retire a box (its uploads are refused from then on)")
        p.add_argument("--box", required=True, help="box id (the number printed on the box)")
        p.add_argument("--reason", required=True)

        p = sub.add_parser(
            "simulate",
            help="run the reference box: type PINs, report tamper/location/battery, upload",
        )
        p.add_argument("--box", required=True, help="box id")
        p.add_argument("--secret", required=True, help="the box secret, 40 hex characters")
        p.add_argument("--server", help="server base URL, e.g. http://127.0.0.1:8000")
        p.add_argument("--date", help="set the box clock to this day (YYYY-MM-DD, noon)")
        p.add_argument("--at", help="set the box clock to this ISO 8601 time")
        p.add_argument("--enter-pin", action="append", default=[], metavar="PIN")
        p.add_argument("--tamper", action="store_true")
        p.add_argument("--location", metavar="LAT,LON")
        p.add_argument("--battery", type=int, metavar="PERCENT")
        p.add_argument(
            "--state",
            type=Path,
            help="file keeping seq, lockout and unsent events between runs "
            "(default: box-sim-<box>.json in the data directory)",
        )

        sub.add_parser("purge-locations", help="blank raw coordinates past the retention period")

        p = sub.add_parser(
            "not-opened",
            help="alert for each box with a modem not opened on a bottle day (daily, for "
            "the day before)",
        )
        p.add_argument("--date", help="the day to check, YYYY-MM-DD (default: yesterday)")

    def handle(self, *args, action: str, **options):
        with operator():
            getattr(self, "do_" + action.replace("-", "_"))(**options)

    def do_pin(self, secret: str, date: str, **_options) -> None:
        try:
            self.stdout.write(pin.pin_for(secret, _date(date)))
        except ValueError as exc:
            raise CommandError(str(exc)) from None

    def do_issue(self, client: str, format: str, **_options) -> None:
        subject = Client.objects.filter(code=client).first()
        if subject is None:
            raise CommandError(_("No client with code %(code)s.") % {"code": client})
        try:
            issued = actions.issue_box(subject)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        if format == "json":
            self.stdout.write(json.dumps({"box": issued.box.label, "secret": issued.secret}))
        else:
            self.stdout.write(f"box {issued.box.label}\nsecret {issued.secret}")

    def do_retire(self, box: str, reason: str, **_options) -> None:
        found = Box.objects.filter(label=box).first()
        if found is None:
            raise CommandError(_("No box %(box)s.") % {"box": box})
        try:
            actions.retire_box(found, reason)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(_("Box %(box)s retired.") % {"box": box})

    def do_purge_locations(self, **_options) -> None:
        self.stdout.write(str(actions.purge_raw_locations()))

    def do_not_opened(self, date: str | None, **_options) -> None:
        day = _date(date) if date else clock.today() - timedelta(days=1)
        try:
            raised = not_opened.check_not_opened(day)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        for alert in raised:
            self.stdout.write(f"{day.isoformat()} {alert.box.label} not opened")
        self.stdout.write(
            _("%(count)s box(es) not opened on %(date)s.")
            % {"count": len(raised), "date": day.isoformat()}
        )

    def do_simulate(
        self, box, secret, server, date, at, enter_pin, tamper, location, battery, state, **_o
    ):
        tz = timezone.get_default_timezone()
        if at:
            moment = datetime.fromisoformat(at)
            moment = moment if moment.tzinfo else moment.replace(tzinfo=tz)
        elif date:
            moment = datetime.combine(_date(date), datetime.min.time().replace(hour=12), tz)
        else:
            moment = None
        state_path = state or settings.DATA_DIR / f"box-sim-{box}.json"
        try:
            sim = ReferenceBox(
                box,
                secret,
                tz=tz,
                clock=(lambda: moment) if moment else None,
                state=ReferenceBox.load_state(state_path),
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        for typed in enter_pin:
            self.stdout.write(f"pin {typed}: {sim.enter_pin(typed)}")
        if tamper:
            sim.tamper()
        if location:
            try:
                lat, lon = (float(x) for x in location.split(","))
            except ValueError:
                raise CommandError("--location is LAT,LON") from None
            sim.location(lat, lon)
        if battery is not None:
            sim.battery(battery)
        if server:
            result = sim.upload(server)
            self.stdout.write(f"upload: {result.status} {json.dumps(result.body)}")
        sim.save(state_path)
        self.stdout.write(f"pending events: {len(sim.state.pending)}; seq {sim.state.seq}")
