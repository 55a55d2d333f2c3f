"""Signing in and out, the second step, the profile page and the police start page."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import LoginView, LogoutView, redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import actions, otp
from .decorators import requires
from .forms import CodeForm, LanguageForm
from .queries import profile_of
from .rules import may_remove_totp


def _with_language(response: HttpResponse, language: str) -> HttpResponse:
    """The UI follows the staff member's own language from the first page after sign-in."""
    if language in dict(settings.LANGUAGES):
        translation.activate(language)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite="Lax",
        )
    return response


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


class SignInView(LoginView):
    """Django's login (username + password, throttled by django-axes), then the second step
    for users who owe one."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["failure_limit"] = settings.AXES_FAILURE_LIMIT
        context["cooloff_minutes"] = round(settings.AXES_COOLOFF_TIME * 60)
        return context

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        if otp.second_factor_required(user):
            query = {"next": self.get_success_url()}
            response = HttpResponseRedirect(f"{reverse('accounts:verify')}?{urlencode(query)}")
        return _with_language(response, profile_of(user).language)


sign_in = SignInView.as_view()
sign_out = LogoutView.as_view()


def verify(request: HttpRequest) -> HttpResponse:
    """The second step: a TOTP code, or, when the manager requires one and none is set up
    yet, setting one up now."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not otp.second_factor_pending(request.user):
        return redirect(_safe_next(request))
    user = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    enrolling = device is None
    if enrolling:
        device = otp.pending_device(user) or actions.start_totp(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if otp.check_code(device, form.cleaned_data["code"]):
            if enrolling:
                actions.confirm_totp(device)
            otp_login(request, device)
            actions.record_verified(user)
            return redirect(_safe_next(request))
        actions.record_verify_failed(user)
        form.add_error("code", _("That code is not right (or was already used). Try the next one."))
    context = {"form": form, "enrolling": enrolling, "next": _safe_next(request)}
    if enrolling:
        context.update(qr=otp.qr_svg(device), secret=otp.secret_base32(device))
    return render(request, "accounts/verify.html", context)


def _profile_context(request: HttpRequest, **overrides) -> dict:
    user = request.user
    prefs = profile_of(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    pending = None if device else otp.pending_device(user)
    context = {
        "prefs": prefs,
        "language_form": LanguageForm(initial={"language": prefs.language}),
        "password_form": PasswordChangeForm(user),
        "totp_device": device,
        "totp_pending": pending,
        "code_form": CodeForm(),
    }
    if pending:
        context.update(qr=otp.qr_svg(pending), secret=otp.secret_base32(pending))
    context.update(overrides)
    return context


@requires()
def profile(request: HttpRequest) -> HttpResponse:
    """Own account: role, language, password and the second factor."""
    return render(request, "accounts/profile.html", _profile_context(request))


@requires()
@require_POST
def profile_language(request: HttpRequest) -> HttpResponse:
    form = LanguageForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of the offered languages."))
        return redirect("accounts:profile")
    language = form.cleaned_data["language"]
    actions.set_language(request.user, language)
    response = _with_language(redirect("accounts:profile"), language)
    messages.success(request, _("Language saved."))
    return response


@require_POST
def switch_language(request: HttpRequest) -> HttpResponse:
    """The header's language buttons, for everyone (the sign-in page has them too). A
    signed-in staff member's choice is also saved as their preference, so the next sign-in
    opens in the same language, as the profile form does."""
    response = set_language(request)
    language = request.POST.get("language", "")
    if (
        request.user.is_authenticated
        and language in dict(settings.LANGUAGES)
        and profile_of(request.user).language != language
    ):
        actions.set_language(request.user, language)
    return response


@requires()
@require_POST
def profile_password(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, request.POST)
    if form.is_valid():
        actions.set_password(request.user, form.cleaned_data["new_password1"], own=True)
        update_session_auth_hash(request, request.user)
        messages.success(request, _("Your password has been changed."))
        return redirect("accounts:profile")
    context = _profile_context(request, password_form=form)
    return render(request, "accounts/profile.html", context, status=400)


@requires()
@require_POST
def totp_start(request: HttpRequest) -> HttpResponse:
    actions.start_totp(request.user)
    return redirect(reverse("accounts:profile") + "#totp")


@requires()
@require_POST
def totp_confirm(request: HttpRequest) -> HttpResponse:
    device = otp.pending_device(request.user)
    form = CodeForm(request.POST)
    if device is None:
        messages.error(request, _("Start the setup first."))
    elif form.is_valid() and otp.check_code(device, form.cleaned_data["code"]):
        actions.confirm_totp(device)
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
    decision = may_remove_totp(request.user)
    if not decision.allowed:
        messages.error(request, decision.reason)
    else:
        actions.remove_totp(request.user)
        messages.success(request, _("Second factor removed."))
    return redirect(reverse("accounts:profile") + "#totp")


@requires("file_referral", "record_check", any_of=True)
def police_home(request: HttpRequest) -> HttpResponse:
    """What an officer can do here; nothing clinical is shown or linked."""
    return render(request, "accounts/police_home.html")
