"""`pingan sms send-due [--date D] [--now]` and `pingan sms send` (docs/sms-gateway.md)."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from pingan.core import clock
from pingan.core.domain import operator
from pingan.messaging import actions
from pingan.messaging.backends import get_backend


class Command(BaseCommand):
    help = (
        "Text messages: `send-due` queues the day's box codes (idempotent; run it as often as "
        "you like, e.g. every 10 minutes) and sends whatever is queued; `send` only sends."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("send-due", help="queue the day's PIN messages, then send the queue")
        p.add_argument("--date", help="the day (YYYY-MM-DD); default today")
        p.add_argument("--now", action="store_true", help="do not wait for the centre's SMS hour")
        p.add_argument("--backend", help="override PINGAN_SMS_BACKEND (console, file, kannel)")
        p.add_argument(
            "--retry-now", action="store_true", help="retry waiting messages without backoff"
        )
        p = sub.add_parser("send", help="send queued messages only")
        p.add_argument("--backend", help="override PINGAN_SMS_BACKEND (console, file, kannel)")
        p.add_argument(
            "--retry-now", action="store_true", help="retry waiting messages without backoff"
        )

    def handle(self, *args, action: str, **options):
        try:
            backend = get_backend(options.get("backend"))
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        with operator():
            if action == "send-due":
                try:
                    day = date.fromisoformat(options["date"]) if options["date"] else None
                except ValueError:
                    raise CommandError("--date is YYYY-MM-DD") from None
                day = day or clock.today()
                run = actions.queue_due_pins(day, ignore_hour=options["now"])
                if run.day_passed:
                    self.stdout.write(f"{day} has passed: nothing queued")
                elif run.too_early:
                    self.stdout.write("before the centre's SMS hour: nothing queued (use --now)")
                else:
                    skipped = ", ".join(f"{k}: {v}" for k, v in sorted(run.skipped.items()))
                    self.stdout.write(
                        f"{day}: queued {run.queued}, already queued {run.already}"
                        + (f", skipped ({skipped})" if skipped else "")
                    )
            sent = actions.send_queued(backend=backend, retry_now=options["retry_now"])
        self.stdout.write(
            f"sent {sent.sent}, waiting to retry {sent.retry_later}, failed {sent.failed}, "
            f"expired {sent.expired}, needs checking {sent.unknown}"
            + (f", settled by delivery report {sent.settled}" if sent.settled else "")
        )
        if sent.unknown:
            self.stderr.write(
                f"{sent.unknown} message(s) may or may not have gone out and are never sent "
                "again by themselves: see Text messages, status 'Needs checking'"
            )
        for error in sorted(set(sent.errors))[:5]:
            self.stderr.write(error)
