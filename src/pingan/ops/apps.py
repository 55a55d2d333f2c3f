from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    """The top layer: commands and screens that span apps (start-up checks, serve, import,
    backup and restore, key rotation, benchmarks, the landing and error pages). Nothing
    imports from here; everything here may import from any app."""

    name = "pingan.ops"
    label = "ops"
    verbose_name = _("Operations")

    def ready(self) -> None:
        # The nurse's queue (dosing) shows what labs, take-home and services know about
        # today's clients; dosing imports none of them, so the badges are handed to it here.
        from . import queue_badges

        queue_badges.install()
        # The audit log names the indicator a drill-down opened (audit sits below indicators).
        from .audit_views import install_target_readers

        install_target_readers()
