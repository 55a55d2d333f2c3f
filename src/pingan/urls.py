from django.conf.urls.i18n import i18n_patterns  # noqa: F401  (language chosen per user, not URL)
from django.urls import include, path

from pingan.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("pingan.accounts.urls")),
    path("clients/", include("pingan.registry.urls")),
    path("dosing/", include("pingan.dosing.urls")),
    path("labs/", include("pingan.labs.urls")),
    path("audit/", include("pingan.audit.urls")),
]

handler403 = "pingan.core.views.forbidden"
