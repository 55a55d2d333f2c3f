from django.urls import path

from . import audit_views as views

app_name = "audit"

urlpatterns = [
    path("list/", views.entry_list, name="list"),
    path("verify/", views.verify_chain, name="verify"),
]
