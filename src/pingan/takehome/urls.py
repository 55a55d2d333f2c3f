"""URL map of the takehome app."""

from django.urls import path  # noqa: F401

app_name = "takehome"

urlpatterns: list = []
