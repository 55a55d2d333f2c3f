"""The second step at sign-in, and setting up, replacing or removing the authenticator.

A password alone never sets up a device (see `otp.py` for who may): at the second step a
person without a working device needs the centre manager's one-time enrolment code; on the
profile, the password again (and the current code to replace a device). Removing a device
needs a current code from it."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from . import actions, otp, throttle
from .decorators import requires
from .forms import CodeForm, EnrolmentCodeForm, TotpStartForm
from .rules import may_remove_totp
from .views import profile_context, safe_next, wait_message

WRONG_CODE = gettext_lazy("That code is not right (or was already used). Try the next one.")


def verify(request: HttpRequest) -> HttpResponse:
    """The second step. With a device: its code. Without one (or with `?enrol=1` when the
    phone is lost): the manager's enrolment code, then the new device's QR code and a code
    from it."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not otp.second_factor_pending(request.user):
        return redirect(safe_next(request))
    user = request.user
    setup = otp.setup_device(request)
    if setup is not None:
        return _confirm_new_device(request, setup)
    device = otp.confirmed_device(user)
    if device is None or request.GET.get("enrol") == "1":
        return _enrolment_code(request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if otp.check_code(device, form.cleaned_data["code"]):
            otp_login(request, device)
            actions.record_verified(user)
            return redirect(safe_next(request))
        actions.record_verify_failed(user)
        form.add_error("code", WRONG_CODE)
    context = {"form": form, "step": "code", "next": safe_next(request)}
    return render(request, "accounts/verify.html", context, status=_status(request, form))


def _status(request: HttpRequest, form) -> int:
    return 400 if request.method == "POST" and form.errors else 200


def _enrolment_code(request: HttpRequest) -> HttpResponse:
    form = EnrolmentCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if actions.redeem_enrolment_code(request.user, form.cleaned_data["enrolment_code"]):
            device = actions.start_totp(request.user)
            otp.remember_setup(request, device)
            return redirect(f"{reverse('accounts:verify')}?{_next_query(request)}")
        form.add_error(
            "enrolment_code",
            _(
                "That enrolment code is not right, has expired or was already used. Ask the "
                "centre manager for a new one."
            ),
        )
    context = {"form": form, "step": "enrolment_code", "next": safe_next(request)}
    return render(request, "accounts/verify.html", context, status=_status(request, form))


def _next_query(request: HttpRequest) -> str:
    return urlencode({"next": safe_next(request)})


def _confirm_new_device(request: HttpRequest, device) -> HttpResponse:
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if otp.check_code(device, form.cleaned_data["code"]):
            actions.confirm_totp(device)
            otp.forget_setup(request)
            otp_login(request, device)
            actions.record_verified(request.user)
            return redirect(safe_next(request))
        actions.record_verify_failed(request.user)
        form.add_error("code", WRONG_CODE)
    context = {
        "form": form,
        "step": "scan",
        "next": safe_next(request),
        "qr": otp.qr_svg(device),
        "secret": otp.secret_base32(device),
    }
    return render(request, "accounts/verify.html", context, status=_status(request, form))


def _profile(request: HttpRequest, status: int, **overrides) -> HttpResponse:
    context = profile_context(request, **overrides)
    return render(request, "accounts/profile.html", context, status=status)


@requires()
@require_POST
def totp_start(request: HttpRequest) -> HttpResponse:
    """Set up (or move to a new phone) from the profile: the password again, and the
    current code when a device is to be replaced. Wrong passwords count as failed sign-ins."""
    user = request.user
    device = otp.confirmed_device(user)
    form = TotpStartForm(request.POST, needs_code=device is not None)
    if not form.is_valid():
        return _profile(request, 400, start_form=form)
    attempt = throttle.begin(user.get_username(), throttle.address_of(request))
    if attempt.refused:
        form.add_error(None, wait_message(attempt.wait))
        return _profile(request, 429, start_form=form)
    if not user.check_password(form.cleaned_data["password"]):
        throttle.failed(attempt)
        actions.record_setup_refused(user, "password")
        form.add_error("password", _("That password is not right."))
        return _profile(request, 400, start_form=form)
    throttle.succeeded(attempt)
    if device is not None and not otp.check_code(device, form.cleaned_data["code"]):
        actions.record_setup_refused(user, "code")
        form.add_error("code", WRONG_CODE)
        return _profile(request, 400, start_form=form)
    otp.remember_setup(request, actions.start_totp(user))
    return redirect(reverse("accounts:profile") + "#totp")


@requires()
@require_POST
def totp_confirm(request: HttpRequest) -> HttpResponse:
    """Confirm the device this session started, with a code from it."""
    device = otp.setup_device(request)
    form = CodeForm(request.POST)
    if device is None:
        messages.error(request, _("Start the setup first."))
    elif form.is_valid() and otp.check_code(device, form.cleaned_data["code"]):
        actions.confirm_totp(device)
        otp.forget_setup(request)
        otp_login(request, device)
        messages.success(
            request, _("Second factor is on. You will be asked for a code at sign-in.")
        )
    else:
        messages.error(
            request, _("That code is not right. Check the time on your phone and try again.")
        )
    return redirect(reverse("accounts:profile") + "#totp")


@requires()
@require_POST
def totp_remove(request: HttpRequest) -> HttpResponse:
    """Only with a current code from the device, and never when the manager requires one."""
    user = request.user
    decision = may_remove_totp(user)
    device = otp.confirmed_device(user)
    form = CodeForm(request.POST)
    if not decision.allowed:
        messages.error(request, decision.reason)
    elif device is None:
        messages.error(request, _("There is no second factor to remove."))
    elif not form.is_valid() or not otp.check_code(device, form.cleaned_data["code"]):
        actions.record_remove_refused(user)
        messages.error(request, _("Enter a current code from your authenticator app to remove it."))
    else:
        actions.remove_totp(user)
        messages.success(request, _("Second factor removed."))
    return redirect(reverse("accounts:profile") + "#totp")
