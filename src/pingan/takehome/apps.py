from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TakehomeConfig(AppConfig):
    name = "pingan.takehome"
    label = "takehome"
    verbose_name = _("Take-home doses")

    def ready(self) -> None:
        # The standard in force says which weekdays the centre closes; every reader of
        # closed days (the urine-test schedule too) asks core, which asks this.
        from pingan.core import closed_days

        from . import closures

        closed_days.use_policy(closures.policy_on)
