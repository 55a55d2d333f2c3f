from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "pingan.registry"
    label = "registry"
    verbose_name = _("Clients")

    def ready(self) -> None:
        from pingan.audit.signals import clients_are

        from .models import Client

        clients_are(Client)
