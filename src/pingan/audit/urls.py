"""URL map of the app (placeholder routes until its screens are built)."""

from django.http import HttpResponse
from django.urls import path

app_name = "audit"


def _todo(request):
    return HttpResponse("")


urlpatterns = [
    path("list/", _todo, name="list"),
]
