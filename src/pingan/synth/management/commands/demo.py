"""`pingan demo`: a fresh demo region (three centres, ≈600 clients, a year of history), then
the server."""

from __future__ import annotations

import unicodedata

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from pingan.synth.demo import DEMO_NAME, DEMO_PASSWORD, DemoRefused, build_demo
from pingan.takehome.models import RequestStatus


def pad(text: str, width: int) -> str:
    """Left-align for a terminal, where a Chinese character takes two columns."""
    shown = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - shown)


class Command(BaseCommand):
    help = (
        "Start afresh with a demo region of three centres: a new database (only a previous "
        "demo's is ever deleted), a year of synthetic history, logins for each centre; then "
        "serve it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--clients",
            type=int,
            default=250,
            help="clients of DEMO, default 250 (DEMO2 and DEMO3: 70%% of it each)",
        )
        parser.add_argument("--seed", type=int, default=2026, help="default 2026")
        parser.add_argument("--no-serve", action="store_true", help="set up, then exit")
        parser.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1")
        parser.add_argument("--port", type=int, default=8000, help="default 8000")
        parser.add_argument("--no-progress", action="store_true", help="no progress bars")

    def handle(self, *args, **options) -> None:
        if not 1 <= options["clients"] <= 20000:
            raise CommandError(_("--clients must be between 1 and 20000."))
        if options["seed"] < 0:
            raise CommandError(_("--seed must not be negative."))
        try:
            summary = build_demo(
                clients=options["clients"],
                seed=options["seed"],
                progress=not options["no_progress"],
                say=self.stdout.write,
            )
        except DemoRefused as refusal:
            raise CommandError(str(refusal)) from None
        write = self.stdout.write
        write("")
        write(
            self.style.SUCCESS(
                _("%(name)s is ready in %(s).0f s.") % {"name": DEMO_NAME, "s": summary.seconds}
            )
        )
        write(_("Centres:"))
        for code, name, clients in summary.centres:
            write(f"  {pad(code, 6)} {pad(name, 32)} {clients:>6,}")
        facts = [
            (_("clients"), summary.clients),
            (_("in treatment"), summary.in_treatment),
            (_("on take-home (last 30 days)"), summary.takehome_clients),
            (_("re-enrolments"), summary.reenrolments),
            (_("doses"), summary.doses),
            (_("prescriptions"), summary.prescriptions),
            (_("consents"), summary.consents),
            (_("stock ledger lines"), summary.ledger_lines),
            (_("open missed-dose holds"), summary.holds),
            (_("dosed today"), summary.dosed_today),
            (_("still expected today"), summary.waiting_today),
            (_("urine tests scheduled today"), summary.urine_today),
            (_("lockboxes issued"), summary.lockboxes),
            (_("take-home bottles for coming days"), summary.bottles_ahead),
            (_("detox beds"), summary.beds),
            (_("detox stays over the year"), summary.stays),
            (_("detox patients in a bed today"), summary.open_stays),
            (_("detox readmissions"), summary.readmissions),
            (_("police referrals"), summary.police_referrals),
            (_("  filed by the demo police login"), summary.referrals_by_demo_officer),
            (_("care referrals"), summary.care_referrals),
            (_("  overdue"), summary.overdue_care),
            (_("sessions (counselling, groups)"), summary.sessions),
            (_("naloxone kits"), summary.naloxone_kits),
            (_("guest slips between centres"), summary.guest_slips),
            (_("  doses given at the host"), summary.guest_doses),
            (_("refused second enrolments"), summary.dual_enrolment_notices),
            (_("transfers"), summary.transfers),
        ]
        for label, value in facts:
            write(f"  {pad(label, 32)} {value:>8,}")
        names = dict(RequestStatus.choices)
        write(_("Take-home requests today, by state:"))
        for status, count in sorted(summary.takehome_requests.items()):
            write(f"  {pad(str(names.get(status, status)), 32)} {count:>8,}")
        write("")
        write(_("Logins (password for all: %(pw)s)") % {"pw": DEMO_PASSWORD})
        where = _("centres")
        write(f"  {pad(_('username'), 12)} {pad(_('role'), 12)} {where}")
        for role, username, centres in summary.logins:
            shown = centres or _("the whole region")
            write(
                f"  {pad(username, 12)} {pad(str(settings.PINGAN_ROLES.get(role, role)), 12)} {shown}"
            )
        if options["no_serve"]:
            write("")
            write(
                _(
                    "Start the server with `DJANGO_SETTINGS_MODULE=pingan.settings.demo pingan "
                    "serve` (the demo's settings), then open http://127.0.0.1:8000/"
                )
            )
            return
        write("")
        call_command("serve", host=options["host"], port=options["port"])
