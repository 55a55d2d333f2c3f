"""`pingan recalls draw [--week YYYY-Www] [--centre CODE]` (weekly; every centre draws
among its own clients, each centre in turn without `--centre`) and `pingan recalls close-overdue`
(daily): docs/recalls.md."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from pingan.core.domain import operator
from pingan.core.models import Centre
from pingan.recalls import actions


class Command(BaseCommand):
    help = "Bottle recalls: the weekly draw, and closing recalls not answered within 24 hours."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("draw", help="draw this week's recalls (once per ISO week)")
        p.add_argument("--week", help="the ISO week, YYYY-Www (default: the current week)")
        p.add_argument("--centre", help="the centre's code (default: every centre in turn)")
        sub.add_parser(
            "close-overdue",
            help="mark recalls not answered within 24 hours missed and suspend take-home "
            "(daily; idempotent)",
        )

    def handle(self, *args, action: str, **options):
        with operator():
            getattr(self, "do_" + action.replace("-", "_"))(**options)

    def do_draw(self, week: str | None, centre: str | None = None, **_options) -> None:
        if centre:
            found = Centre.objects.filter(code=centre.strip().upper()).first()
            if found is None:
                raise CommandError(f"No centre has the code {centre}.")
            centres = [found]
        else:
            centres = list(Centre.objects.order_by("code")) or [Centre.current()]
        for one in centres:
            if len(centres) > 1:
                self.stdout.write(f"centre {one.code}")
            self._draw_one(week, one)

    def _draw_one(self, week: str | None, centre: Centre) -> None:
        try:
            done = actions.draw_week(week, centre=centre)
        except ValidationError as exc:
            if getattr(exc, "code", "") == "already_drawn":
                # The weekly timer may fire twice (a restart): saying so is not a failure.
                self.stdout.write(" ".join(exc.messages))
                return
            raise CommandError(" ".join(exc.messages)) from None
        d = done.draw
        self.stdout.write(
            f"week {d.week} seed {d.seed}: {len(d.drawn)} of {len(d.eligible)} drawn, "
            f"{len(done.texted)} texted, {len(done.to_phone)} to phone"
        )
        for code in done.texted:
            self.stdout.write(f"{code} texted")
        for code, why in done.to_phone:
            self.stdout.write(f"{code} to phone: {why}")

    def do_close_overdue(self, **_options) -> None:
        try:
            closed = actions.close_overdue()
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        for recall in closed:
            made = timezone.localtime(recall.made_at).strftime("%Y-%m-%d %H:%M")
            self.stdout.write(f"{recall.client.code} recalled {made}: missed, take-home suspended")
        self.stdout.write(f"{len(closed)} recall(s) closed as missed.")
