from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    """The top layer: commands and screens that span apps (start-up checks, serve, import,
    backup and restore, key rotation, benchmarks, the landing and error pages). Nothing
    imports from here; everything here may import from any app."""

    name = "pingan.ops"
    label = "ops"
    verbose_name = _("Operations")
