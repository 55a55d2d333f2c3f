"""URL map of the indicators app."""

from django.urls import path

from . import views

app_name = "indicators"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("evaluation/", views.evaluation, name="evaluation"),
    path("export.csv", views.export_csv, name="export_csv"),
    path("report.pdf", views.report_pdf, name="report_pdf"),
    path("<slug:indicator>/<str:period>/clients/", views.drilldown, name="drilldown"),
]
