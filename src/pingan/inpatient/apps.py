from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InpatientConfig(AppConfig):
    name = "pingan.inpatient"
    label = "inpatient"
    verbose_name = _("Inpatient unit")
