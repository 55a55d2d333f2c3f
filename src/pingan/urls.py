"""The project's URL map: one prefix per app. The JSON API (django-ninja) mounts under /api/."""

from django.urls import include, path

from pingan.accounts import views as account_views
from pingan.ops import recall_summary, station_summary
from pingan.ops import views as ops_views

urlpatterns = [
    path("", ops_views.home, name="home"),
    path("police/", ops_views.police_home, name="police_home"),
    path("i18n/setlang/", account_views.switch_language, name="set_language"),
    path("accounts/", include("pingan.accounts.urls")),
    path("region/", include("pingan.region.urls")),
    path("clients/", include("pingan.registry.urls")),
    path("dosing/", include("pingan.dosing.urls")),
    path("labs/", include("pingan.labs.urls")),
    path("audit/", include("pingan.ops.audit_urls")),
    path("takehome/", include("pingan.takehome.urls")),
    path("lockbox/", include("pingan.lockbox.urls")),
    path("messaging/", include("pingan.messaging.urls")),
    path("referrals/", include("pingan.referrals.urls")),
    path("services/", include("pingan.services.urls")),
    path("recalls/summary/", recall_summary.summary, name="recall_summary"),
    path("police/stations/", station_summary.summary, name="station_summary"),
    path("recalls/", include("pingan.recalls.urls")),
    path("inpatient/", include("pingan.inpatient.urls")),
    path("indicators/", include("pingan.indicators.urls")),
    path("fhir/", include("pingan.exchange.urls")),
    path("api/lockbox/", include("pingan.lockbox.api_urls")),
    path("api/messaging/", include("pingan.messaging.api_urls")),
]

handler403 = "pingan.ops.views.forbidden"
handler500 = "pingan.ops.views.server_error"
