"""URL map of the dosing app. Every object is addressed by its external id (a UUID)."""

from django.urls import path

from . import safety_views, views

app_name = "dosing"

urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("queue/counts/", views.queue_counts, name="queue_counts"),
    path("queue/<uuid:external_id>/row/", views.row, name="row"),
    path("queue/<uuid:external_id>/confirm/", views.dose_confirm, name="dose_confirm"),
    path("queue/<uuid:external_id>/dose/", views.dose, name="dose"),
    path("client/<uuid:external_id>/", views.client, name="client"),
    path("client/<uuid:external_id>/prescribe/", views.prescribe, name="prescribe"),
    path("client/<uuid:external_id>/taper/", views.taper, name="taper"),
    path("client/<uuid:external_id>/hold/", views.hold_place, name="hold_place"),
    path("taper/<uuid:external_id>/cancel/", views.taper_cancel, name="taper_cancel"),
    path("hold/<uuid:external_id>/clear/", views.hold_clear, name="hold_clear"),
    path("queue/<uuid:external_id>/second/", safety_views.second_part, name="second_part"),
    path("client/<uuid:external_id>/ecg/", safety_views.ecg_add, name="ecg_add"),
    path("client/<uuid:external_id>/medicine/", safety_views.medicine_start, name="medicine_start"),
    path("medicine/<uuid:external_id>/stop/", safety_views.medicine_stop, name="medicine_stop"),
    path("client/<uuid:external_id>/pregnancy/", safety_views.pregnancy_set, name="pregnancy_set"),
    path("pregnancy/<uuid:external_id>/end/", safety_views.pregnancy_end, name="pregnancy_end"),
    path("client/<uuid:external_id>/guest/", views.guest_slip_issue, name="guest_slip_issue"),
    path("guest/<uuid:external_id>/cancel/", views.guest_slip_cancel, name="guest_slip_cancel"),
    path("guests/", views.guests, name="guests"),
    path("worklist/", safety_views.worklist, name="worklist"),
    path("limits/", safety_views.limits, name="limits"),
    path("stock/", views.stock, name="stock"),
    path("stock/reconcile/", views.reconcile, name="reconcile"),
    path("stock/log/", views.dispensing_log, name="log"),
]

from . import outside_views  # noqa: E402 - the screen of guests from outside the installation

urlpatterns += [
    path("outside/", outside_views.outside, name="outside"),
    path("outside/slip/", outside_views.outside_slip, name="outside_slip"),
    path("outside/return/", outside_views.outside_return_in, name="outside_return_in"),
    path("outside/returns/", outside_views.outside_returns_out, name="outside_returns_out"),
    path(
        "outside/<uuid:external_id>/return/",
        outside_views.outside_return_out,
        name="outside_return_out",
    ),
]
