"""URL map of the recalls app."""

from django.urls import path

from . import views

app_name = "recalls"

urlpatterns = [
    path("", views.recall_list, name="list"),
    path("draw/", views.draw, name="draw"),
    path("client/<uuid:external_id>/", views.recall_client, name="recall_client"),
    path("<uuid:external_id>/phoned/", views.phoned, name="phoned"),
    path("<uuid:external_id>/return/", views.record_return, name="return"),
]
