"""URL map of the messaging app (the gateway's delivery reports are in api_urls.py)."""

from django.urls import path

from . import views

app_name = "messaging"

urlpatterns = [
    path("", views.outbox, name="outbox"),
    path("<uuid:external_id>/retry/", views.retry, name="retry"),
    path("<uuid:external_id>/confirm/", views.confirm, name="confirm"),
]
