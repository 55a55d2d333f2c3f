"""Machine endpoints of the lockbox (authenticated by box signatures, not sessions).

Mounted by the root URL map at api/lockbox/: POST /api/lockbox/events, and the OpenAPI
schema at /api/lockbox/openapi.json."""

from django.urls import path

from .api import api

urlpatterns = [path("", api.urls)]
