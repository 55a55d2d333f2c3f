"""URL map of the referrals app. Every id in a URL is a random external id."""

from django.urls import path

from . import views, views_care, views_police

app_name = "referrals"

urlpatterns = [
    path("", views_police.index, name="index"),
    # The officer's side
    path("police/new/", views_police.file_referral, name="file"),
    path("police/mine/", views_police.mine, name="mine"),
    path("police/mine/<uuid:external_id>/", views_police.mine_detail, name="mine_detail"),
    # The centre's inbox
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<uuid:external_id>/", views.detail, name="detail"),
    path("inbox/<uuid:external_id>/contact/", views.contact, name="contact"),
    path("inbox/<uuid:external_id>/outcome/", views.outcome, name="outcome"),
    path("inbox/<uuid:external_id>/link/", views.link, name="link"),
    path("inbox/<uuid:external_id>/enrol/", views.enrol, name="enrol"),
    path("inbox/<uuid:external_id>/merge/", views.merge, name="merge"),
    # Care referrals
    path("care/overdue/", views_care.worklist, name="worklist"),
    path("care/partners/", views_care.partners, name="partners"),
    path("care/client/<uuid:external_id>/", views_care.client, name="client"),
    path("care/client/<uuid:external_id>/send/", views_care.send, name="care_send"),
    path("care/<uuid:external_id>/complete/", views_care.complete, name="care_complete"),
]
