"""URL map of the inpatient app."""

from django.urls import path  # noqa: F401

app_name = "inpatient"

urlpatterns: list = []
