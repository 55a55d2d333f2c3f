"""URL map of the services app."""

from django.urls import path

from . import views

app_name = "services"

urlpatterns = [
    path("", views.sessions, name="sessions"),
    path("sessions/<uuid:external_id>/", views.session, name="session"),
    path("naloxone/", views.naloxone, name="naloxone"),
    path("naloxone/<uuid:external_id>/follow-up/", views.kit_follow_up, name="kit_follow_up"),
]
