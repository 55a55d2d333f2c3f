"""`pingan serve`: the production WSGI server (waitress) in front of Ping An.

Waitress is pure Python and runs the same on a clinic's Windows PC as on a Linux server;
static files come through WhiteNoise, already in the middleware, so no web server is needed.
It runs the start-up checks of `pingan check` first and refuses to start on any error (a
database with unapplied migrations, field keys that do not open the stored values, a data
directory it cannot write), because those fail later in ways a nurse at the counter cannot
understand.
"""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from pingan.ops.management.startup import ERROR, OK, run_checks, unapplied_migrations

__all__ = ["Command", "unapplied_migrations"]


class Command(BaseCommand):
    help = "Serve Ping An with waitress (default http://127.0.0.1:8000)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1")
        parser.add_argument("--port", type=int, default=8000, help="default 8000")
        parser.add_argument("--threads", type=int, default=8, help="default 8")
        parser.add_argument(
            "--trusted-proxy",
            default="",
            metavar="ADDR",
            help="address of a reverse proxy (e.g. 127.0.0.1 for nginx on this machine) whose "
            "X-Forwarded-For and X-Forwarded-Proto are believed: the audit log then records "
            "the client's address and HTTPS is recognised",
        )

    def handle(
        self, *args, host: str, port: int, threads: int, trusted_proxy: str, **options
    ) -> None:
        if not 1 <= port <= 65535:
            raise CommandError(_("--port must be between 1 and 65535."))
        if threads < 1:
            raise CommandError(_("--threads must be at least 1."))
        findings = run_checks("pingan serve")
        for finding in findings:
            if finding.level != OK:
                self.stderr.write(finding.line())
        if any(f.level == ERROR for f in findings):
            raise CommandError(_("Not serving: fix the errors above (`pingan check`)."))
        # Copy the static files where WhiteNoise serves them from (quick: a few files, and
        # unchanged ones are skipped) before WhiteNoise starts, so the server needs nothing
        # else on disk.
        call_command("collectstatic", interactive=False, verbosity=0)
        from waitress.server import create_server

        from pingan.wsgi import application

        proxy = {}
        if trusted_proxy:
            proxy = {
                "trusted_proxy": trusted_proxy,
                "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto"},
            }
        try:
            server = create_server(
                application, host=host, port=port, threads=threads, ident="pingan", **proxy
            )
        except OSError as exc:
            raise CommandError(
                _(
                    "Cannot listen on %(host)s:%(port)d: %(reason)s. Is another server "
                    "running there? Choose another --port."
                )
                % {"host": host, "port": port, "reason": exc.strerror or exc}
            ) from None
        from pingan.indicators import freshness

        freshness.start_warming()  # the dashboard's months, computed before anyone asks
        shown = f"[{host}]" if ":" in host else host
        self.stdout.write(
            _("Ping An is serving on http://%(host)s:%(port)d/ — press Ctrl+C to stop.")
            % {"host": shown, "port": port}
        )
        try:
            server.run()
        finally:
            server.close()
