"""`pingan serve`: the production WSGI server (waitress) in front of Ping An.

Waitress is pure Python and runs the same on a clinic's Windows PC as on a Linux server;
static files come through WhiteNoise, already in the middleware, so no web server is needed.
It refuses to start on a database with unapplied migrations, because a half-migrated schema
fails in ways a nurse at the counter cannot understand.
"""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils.translation import gettext as _


def unapplied_migrations() -> list[str]:
    """Names of migrations the database still lacks ("app.0002_name")."""
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{m.app_label}.{m.name}" for m, _backwards in plan]


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
        missing = unapplied_migrations()
        if missing:
            raise CommandError(
                _(
                    "The database lacks %(n)d migrations (%(first)s…). Run `pingan migrate` "
                    "first, then start the server again."
                )
                % {"n": len(missing), "first": missing[0]}
            )
        # Copy the static files where WhiteNoise serves them from (quick: a few files, and
        # unchanged ones are skipped), so the server needs nothing else on disk.
        call_command("collectstatic", interactive=False, verbosity=0)
        from waitress import serve

        from pingan.wsgi import application

        shown = f"[{host}]" if ":" in host else host
        self.stdout.write(
            _("Ping An is serving on http://%(host)s:%(port)d/ — press Ctrl+C to stop.")
            % {"host": shown, "port": port}
        )
        proxy = {}
        if trusted_proxy:
            proxy = {
                "trusted_proxy": trusted_proxy,
                "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto"},
            }
        serve(application, host=host, port=port, threads=threads, ident="pingan", **proxy)
