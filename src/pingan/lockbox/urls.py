"""URL map of the lockbox app."""

from django.urls import path  # noqa: F401

app_name = "lockbox"

urlpatterns: list = []
