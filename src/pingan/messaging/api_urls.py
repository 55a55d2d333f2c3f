"""Machine endpoints of messaging, mounted by the root URL map at api/messaging/."""

from django.urls import path

from . import api

app_name = "messaging-api"

urlpatterns = [path("dlr/<slug:token>/", api.delivery_report, name="dlr")]
