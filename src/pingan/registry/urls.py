from django.urls import path

from . import views

app_name = "registry"

urlpatterns = [
    path("", views.client_list, name="list"),
    path("enrol/", views.enrol, name="enrol"),
    path("transfers/", views.transfers_out, name="transfers_out"),
    path("transfers/<uuid:external_id>/", views.transfer_done, name="transfer_done"),
    path("<uuid:external_id>/", views.client_detail, name="detail"),
    path("<uuid:external_id>/identity/", views.identity_reveal, name="identity"),
    path("<uuid:external_id>/identity/edit/", views.identity_edit, name="identity_edit"),
    path("<uuid:external_id>/identity/erase/", views.identity_erase, name="identity_erase"),
    path("<uuid:external_id>/consents/", views.consent_record, name="consent_record"),
    path("<uuid:external_id>/consents/revoke/", views.consent_revoke, name="consent_revoke"),
    path("<uuid:external_id>/discharge/", views.discharge, name="discharge"),
    path("<uuid:external_id>/re-enrol/", views.re_enrol, name="re_enrol"),
    path("<uuid:external_id>/transfer/", views.transfer, name="transfer"),
    path("<uuid:external_id>/photo/", views.photo, name="photo"),
    path("<uuid:external_id>/photo/upload/", views.photo_upload, name="photo_upload"),
]
