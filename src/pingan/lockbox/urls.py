"""URL map of the lockbox app."""

from django.urls import path

from . import views

app_name = "lockbox"

urlpatterns = [
    path("", views.box_list, name="list"),
    path("issue/", views.issue, name="issue"),
    path("boxes/<uuid:external_id>/retire/", views.retire, name="retire"),
    path("clients/<uuid:external_id>/home-area/", views.geofence, name="geofence"),
    path("settings/", views.settings_view, name="settings"),
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/<uuid:external_id>/acknowledge/", views.acknowledge, name="acknowledge"),
]
