"""URL map of the inpatient app. Every object is addressed by its external id (a UUID)."""

from django.urls import path

from . import views, views_money

app_name = "inpatient"

urlpatterns = [
    path("", views.board, name="board"),
    path("bed/<uuid:external_id>/state/", views.bed_state, name="bed_state"),
    path("admit/", views.admit, name="admit"),
    path("today/", views.today, name="today"),
    path("stay/<uuid:external_id>/", views.stay, name="stay"),
    path("stay/<uuid:external_id>/card/", views.card, name="card"),
    path("stay/<uuid:external_id>/move/", views.move, name="move"),
    path("stay/<uuid:external_id>/discharge/", views.discharge, name="discharge"),
    path("stay/<uuid:external_id>/step-down/", views.step_down, name="step_down"),
    path("stay/<uuid:external_id>/taper/", views.taper, name="taper"),
    path("stay/<uuid:external_id>/dose/", views.dose, name="dose"),
    path("stay/<uuid:external_id>/cows/", views.cows, name="cows"),
    path("stay/<uuid:external_id>/adjunct/", views.adjunct, name="adjunct"),
    path("stay/<uuid:external_id>/care/", views.care_event, name="care"),
    path("stay/<uuid:external_id>/pay/", views_money.pay, name="pay"),
    path("stay/<uuid:external_id>/refund/", views_money.refund, name="refund"),
    path("stay/<uuid:external_id>/extend/", views_money.extend, name="extend"),
    path("receipt/<uuid:external_id>/", views_money.receipt, name="receipt"),
    path("tariff/", views_money.tariffs, name="tariffs"),
    path("tariff/<uuid:external_id>/", views_money.tariff, name="tariff"),
    path("rooms/", views_money.rooms, name="rooms"),
    path("report/", views_money.report, name="report"),
]
