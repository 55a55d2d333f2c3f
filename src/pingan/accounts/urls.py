"""Signing in, the profile, staff management and the police start page."""

from django.urls import path

from . import second_factor, staff, views

app_name = "accounts"

urlpatterns = [
    path("login/", views.sign_in, name="login"),
    path("logout/", views.sign_out, name="logout"),
    path("verify/", second_factor.verify, name="verify"),
    path("profile/", views.profile, name="profile"),
    path("profile/language/", views.profile_language, name="profile_language"),
    path("profile/password/", views.profile_password, name="profile_password"),
    path("profile/totp/start/", second_factor.totp_start, name="totp_start"),
    path("profile/totp/confirm/", second_factor.totp_confirm, name="totp_confirm"),
    path("profile/totp/remove/", second_factor.totp_remove, name="totp_remove"),
    path("police/", views.police_home, name="police_home"),
    path("staff/", staff.staff_list, name="staff_list"),
    path("staff/new/", staff.staff_create, name="staff_create"),
    path("staff/<str:username>/", staff.staff_detail, name="staff_detail"),
    path("staff/<str:username>/role/", staff.staff_role, name="staff_role"),
    path("staff/<str:username>/active/", staff.staff_active, name="staff_active"),
    path("staff/<str:username>/totp/", staff.staff_totp, name="staff_totp"),
    path(
        "staff/<str:username>/enrolment-code/",
        staff.staff_enrolment_code,
        name="staff_enrolment_code",
    ),
    path("staff/<str:username>/unlock/", staff.staff_unlock, name="staff_unlock"),
    path("staff/<str:username>/password/", staff.staff_password, name="staff_password"),
]
