"""URL map of the app (placeholder routes until its screens are built)."""

from django.http import HttpResponse
from django.urls import path

app_name = "accounts"


def _todo(request):
    return HttpResponse("")


urlpatterns = [
    path("login/", _todo, name="login"),
    path("logout/", _todo, name="logout"),
    path("profile/", _todo, name="profile"),
    path("police_home/", _todo, name="police_home"),
]
