"""Signing in and out, the profile page and the police start page (the second step and
the authenticator's set-up are in `second_factor.py`)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import LoginView, LogoutView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from . import actions, otp, throttle
from .decorators import requires
from .forms import CodeForm, LanguageForm, TotpStartForm
from .queries import profile_of


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


def safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    # A path on this site only: redirect() reads "0" or "home" as the name of a view.
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, request.is_secure()
    ):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


def wait_message(seconds: int) -> str:
    """Why a try is refused, and for how long, in whole seconds or minutes."""
    if seconds < 120:
        return ngettext(
            "Too many failed sign-ins. Wait %(n)d second, then try again.",
            "Too many failed sign-ins. Wait %(n)d seconds, then try again.",
            seconds,
        ) % {"n": seconds}
    minutes = -(-seconds // 60)
    return ngettext(
        "Too many failed sign-ins. Wait %(n)d minute, then try again.",
        "Too many failed sign-ins. Wait %(n)d minutes, then try again.",
        minutes,
    ) % {"n": minutes}


class SignInView(LoginView):
    """Django's login (username + password), slowed down by `throttle` after failures, then
    the second step for users who owe one."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True
    attempt: throttle.Attempt | None = None

    def post(self, request, *args, **kwargs):
        username = request.POST.get("username", "")
        if username and request.POST.get("password"):
            self.attempt = throttle.begin(username, throttle.address_of(request))
            if self.attempt.refused:
                context = self.get_context_data(
                    form=self.get_form_class()(request, initial={"username": username[:150]}),
                    refusal=wait_message(self.attempt.wait),
                )
                response = self.render_to_response(context, status=429)
                response["Retry-After"] = str(self.attempt.wait)
                return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        if self.attempt is not None:
            throttle.failed(self.attempt)
        return super().form_invalid(form)

    def form_valid(self, form):
        if self.attempt is not None:
            throttle.succeeded(self.attempt)
        response = super().form_valid(form)
        user = form.get_user()
        if otp.second_factor_required(user):
            query = {"next": self.get_success_url()}
            response = HttpResponseRedirect(f"{reverse('accounts:verify')}?{urlencode(query)}")
        return _with_language(response, profile_of(user).language)


sign_in = SignInView.as_view()
sign_out = LogoutView.as_view()


def profile_context(request: HttpRequest, **overrides) -> dict:
    user = request.user
    prefs = profile_of(user)
    device = otp.confirmed_device(user)
    pending = otp.setup_device(request)
    context = {
        "prefs": prefs,
        "language_form": LanguageForm(initial={"language": prefs.language}),
        "password_form": PasswordChangeForm(user),
        "totp_device": device,
        "totp_pending": pending,
        "code_form": CodeForm(),
        "start_form": TotpStartForm(needs_code=device is not None),
    }
    if pending:
        context.update(qr=otp.qr_svg(pending), secret=otp.secret_base32(pending))
    context.update(overrides)
    return context


@requires()
def profile(request: HttpRequest) -> HttpResponse:
    """Own account: role, language, password and the second factor."""
    return render(request, "accounts/profile.html", profile_context(request))


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
    context = profile_context(request, password_form=form)
    return render(request, "accounts/profile.html", context, status=400)


@requires("file_referral", "record_check", any_of=True)
def police_home(request: HttpRequest) -> HttpResponse:
    """The officer's start page moved to the top layer (it counts referrals and record
    checks); this address stays for bookmarks."""
    return redirect("police_home")
