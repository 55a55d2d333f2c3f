"""URL map of the app (placeholder routes until its screens are built)."""

from django.http import HttpResponse
from django.urls import path

app_name = "dosing"


def _todo(request):
    return HttpResponse("")


urlpatterns = [
    path("queue/", _todo, name="queue"),
    path("stock/", _todo, name="stock"),
]
