"""URL map of the dosing app. Every object is addressed by its external id (a UUID)."""

from django.urls import path

from . import views

app_name = "dosing"

urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("queue/<uuid:external_id>/row/", views.row, name="row"),
    path("queue/<uuid:external_id>/confirm/", views.dose_confirm, name="dose_confirm"),
    path("queue/<uuid:external_id>/dose/", views.dose, name="dose"),
    path("client/<uuid:external_id>/", views.client, name="client"),
    path("client/<uuid:external_id>/prescribe/", views.prescribe, name="prescribe"),
    path("client/<uuid:external_id>/taper/", views.taper, name="taper"),
    path("client/<uuid:external_id>/hold/", views.hold_place, name="hold_place"),
    path("taper/<uuid:external_id>/cancel/", views.taper_cancel, name="taper_cancel"),
    path("hold/<uuid:external_id>/clear/", views.hold_clear, name="hold_clear"),
    path("stock/", views.stock, name="stock"),
    path("stock/reconcile/", views.reconcile, name="reconcile"),
    path("stock/log/", views.dispensing_log, name="log"),
]
