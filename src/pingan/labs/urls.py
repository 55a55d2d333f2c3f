"""URL map of the labs app."""

from django.urls import path

from . import views

app_name = "labs"

urlpatterns = [
    path("schedule/", views.schedule, name="schedule"),
    path("schedule/generate/", views.generate, name="generate"),
    path("schedule/<uuid:external_id>/done/", views.mark_done, name="mark_done"),
    path("client/<uuid:external_id>/", views.client, name="client"),
    path("client/<uuid:external_id>/urine/", views.record_urine, name="record_urine"),
    path("client/<uuid:external_id>/test/", views.record_test, name="record_test"),
]
