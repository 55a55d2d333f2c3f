from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TakehomeConfig(AppConfig):
    name = "pingan.takehome"
    label = "takehome"
    verbose_name = _("Take-home doses")
