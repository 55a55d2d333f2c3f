"""URL map of the services app."""

from django.urls import path

from . import appointment_views, outreach_views, views

app_name = "services"

urlpatterns = [
    path("", views.sessions, name="sessions"),
    path("sessions/<uuid:external_id>/", views.session, name="session"),
    path("naloxone/", views.naloxone, name="naloxone"),
    path("dropouts/", outreach_views.dropouts, name="dropouts"),
    path("dropouts/settings/", outreach_views.threshold, name="dropout_settings"),
    path("outreach/<uuid:external_id>/", outreach_views.record, name="outreach"),
    path("outreach/<uuid:external_id>/reminder/", outreach_views.reminder, name="reminder"),
    path("client/<uuid:external_id>/appointments/", appointment_views.client, name="appointments"),
    path(
        "appointment/<uuid:external_id>/close/",
        appointment_views.close,
        name="appointment_close",
    ),
    path("naloxone/<uuid:external_id>/follow-up/", views.kit_follow_up, name="kit_follow_up"),
]
