"""`pingan eligibility`: the nightly take-home list (docs/architecture.md, Contracts)."""

from __future__ import annotations

import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from pingan.core import clock
from pingan.core.models import Centre
from pingan.registry.models import Client
from pingan.takehome import nightly, queries
from pingan.takehome.standard import PROFILES


class Command(BaseCommand):
    help = (
        "The take-home eligibility list for a day: every client in treatment, the days the "
        "record allows and each check with its evidence. Without --profile, the standard in force."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="the day, YYYY-MM-DD (default today)")
        parser.add_argument(
            "--profile", choices=PROFILES, help="evaluate with a shipped profile instead"
        )
        parser.add_argument("--format", choices=("table", "json"), default="table")
        parser.add_argument(
            "--centre", metavar="CODE", help="only this centre's clients (default: every centre)"
        )

    def handle(self, *args, **options) -> None:
        day = clock.today()
        if options["date"]:
            try:
                day = date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError(
                    _("Not a date (YYYY-MM-DD): %(value)s") % {"value": options["date"]}
                ) from None
        codes = self._codes_of(options.get("centre"))
        rules = queries.rules_for(day, options["profile"])
        decisions = nightly.eligibility(day, rules)
        if codes is not None:
            decisions = [d for d in decisions if d.client in codes]
        if options["format"] == "json":
            self.stdout.write(
                json.dumps([d.as_dict() for d in decisions], ensure_ascii=False, indent=1)
            )
            return
        self.stdout.write(f"{_('client'):<14}{_('days'):>6}  {_('ready'):<6}  {_('failed checks')}")
        for d in decisions:
            failed = "; ".join(d.not_met)
            ready = _("yes") if d.ready else _("no")
            self.stdout.write(f"{d.client:<14}{d.allowed_days:>6}  {ready:<6}  {failed}")
        allowed = sum(1 for d in decisions if d.allowed_days)
        self.stdout.write(
            _("%(n)d clients in treatment, %(allowed)d allowed take-home, %(ready)d ready.")
            % {"n": len(decisions), "allowed": allowed, "ready": sum(d.ready for d in decisions)}
        )

    def _codes_of(self, code: str | None) -> set[str] | None:
        """The client codes of the centre named by `code` (None: every centre)."""
        if not code:
            return None
        centre = Centre.objects.filter(code=code.strip().upper()).first()
        if centre is None:
            raise CommandError(_("No centre has the code %(code)s.") % {"code": code})
        return set(Client.objects.filter(centre=centre).values_list("code", flat=True))
