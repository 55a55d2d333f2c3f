"""URL map of the exchange app: the FHIR Bulk Data export (mounted under /fhir/)."""

from django.urls import path

from . import views

app_name = "exchange"

urlpatterns = [
    path("$export", views.kick_off, name="export"),
    path("export/<uuid:job_id>/", views.status, name="status"),
    path("export/<uuid:job_id>/<str:name>", views.download, name="download"),
]
