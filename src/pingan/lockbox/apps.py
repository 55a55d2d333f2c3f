from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LockboxConfig(AppConfig):
    name = "pingan.lockbox"
    label = "lockbox"
    verbose_name = _("Lockboxes")
