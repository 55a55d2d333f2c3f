from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IndicatorsConfig(AppConfig):
    name = "pingan.indicators"
    label = "indicators"
    verbose_name = _("Indicators")

    def ready(self) -> None:
        from . import freshness

        freshness.connect()
