"""URL map of the takehome app."""

from django.urls import path

from . import closure_views, flag_views, suspension_views, views

app_name = "takehome"

urlpatterns = [
    path("", views.index, name="index"),
    path("eligibility/", views.eligibility, name="eligibility"),
    path("client/<uuid:external_id>/", views.client, name="client"),
    path("client/<uuid:external_id>/request/", views.new_request, name="new_request"),
    path("client/<uuid:external_id>/returns/", views.returns, name="returns"),
    path("client/<uuid:external_id>/suspend/", suspension_views.suspend, name="suspend"),
    path("suspensions/<uuid:external_id>/lift/", suspension_views.lift, name="lift_suspension"),
    path("requests/<uuid:external_id>/", views.request_detail, name="request"),
    path("requests/<uuid:external_id>/decide/", views.decide, name="decide"),
    path("requests/<uuid:external_id>/dispense/", views.dispense, name="dispense"),
    path("incidents/<uuid:external_id>/close/", views.close_incident, name="close_incident"),
    path("flags/<uuid:external_id>/clear/", flag_views.clear, name="clear_flag"),
    path("checks/", views.checks, name="checks"),
    path("checks/<uuid:external_id>/", views.check, name="check"),
    path("standards/", views.standards, name="standards"),
    path("standards/new/", views.standard_new, name="standard_new"),
    path("standards/<uuid:external_id>/sign/", views.standard_sign, name="standard_sign"),
    path("closures/", closure_views.closures_view, name="closures"),
    path(
        "closures/<uuid:external_id>/remove/",
        closure_views.closure_remove,
        name="closure_remove",
    ),
]
