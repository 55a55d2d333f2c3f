"""Staff management for the centre manager: accounts, roles, status, second factor
(requiring it, and the one-time code to set it up), clearing failed sign-ins."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import actions
from .decorators import requires
from .forms import RoleForm, StaffCreateForm
from .otp import show_enrolment_code
from .queries import staff_row, staff_rows
from .rules import may_change_role, may_set_active


@requires("manage_staff")
def staff_list(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/staff_list.html", {"rows": staff_rows()})


@requires("manage_staff")
def staff_create(request: HttpRequest) -> HttpResponse:
    form = StaffCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = actions.create_staff(
            data["username"], data["password1"], data["role"], data["language"]
        )
        messages.success(request, _("Staff account %(name)s created.") % {"name": user.username})
        return redirect("accounts:staff_detail", username=user.username)
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/staff_create.html", {"form": form}, status=status)


def _detail(request: HttpRequest, user: User, status: int = 200, **forms) -> HttpResponse:
    row = staff_row(user)
    context = {
        "row": row,
        "staff": user,
        "role_form": forms.get("role_form") or RoleForm(initial={"role": row.role}),
        "password_form": forms.get("password_form") or SetPasswordForm(user),
    }
    return render(request, "accounts/staff_detail.html", context, status=status)


@requires("manage_staff")
def staff_detail(request: HttpRequest, username: str) -> HttpResponse:
    return _detail(request, get_object_or_404(User, username=username))


@requires("manage_staff")
@require_POST
def staff_role(request: HttpRequest, username: str) -> HttpResponse:
    user = get_object_or_404(User, username=username)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _detail(request, user, status=400, role_form=form)
    decision = may_change_role(request.user, user, form.cleaned_data["role"])
    if decision.allowed:
        actions.change_role(user, form.cleaned_data["role"])
        messages.success(request, _("Role changed."))
    else:
        messages.error(request, decision.reason)
    return redirect("accounts:staff_detail", username=user.username)


@requires("manage_staff")
@require_POST
def staff_active(request: HttpRequest, username: str) -> HttpResponse:
    user = get_object_or_404(User, username=username)
    active = request.POST.get("active") == "1"
    decision = may_set_active(request.user, user, active)
    if decision.allowed:
        actions.set_active(user, active)
        messages.success(
            request, _("Account reactivated.") if active else _("Account deactivated.")
        )
    else:
        messages.error(request, decision.reason)
    return redirect("accounts:staff_detail", username=user.username)


@requires("manage_staff")
@require_POST
def staff_totp(request: HttpRequest, username: str) -> HttpResponse:
    user = get_object_or_404(User, username=username)
    required = request.POST.get("required") == "1"
    actions.set_require_totp(user, required)
    if required:
        messages.success(request, _("A second factor is now required at this person's sign-in."))
    else:
        messages.success(request, _("A second factor is no longer required."))
    return redirect("accounts:staff_detail", username=user.username)


@requires("manage_staff")
@require_POST
def staff_enrolment_code(request: HttpRequest, username: str) -> HttpResponse:
    """A one-time code to set up the authenticator, shown on this response only: not put in
    a message (those travel in a cookie), not kept in any cache."""
    user = get_object_or_404(User, username=username)
    code, issued = actions.issue_enrolment_code(user, request.user)
    context = {"staff": user, "code": show_enrolment_code(code), "expires_at": issued.expires_at}
    response = render(request, "accounts/enrolment_code.html", context)
    add_never_cache_headers(response)
    return response


@requires("manage_staff")
@require_POST
def staff_unlock(request: HttpRequest, username: str) -> HttpResponse:
    user = get_object_or_404(User, username=username)
    actions.unlock(user)
    messages.success(request, _("Failed sign-ins cleared; the person can sign in again now."))
    return redirect("accounts:staff_detail", username=user.username)


@requires("manage_staff")
@require_POST
def staff_password(request: HttpRequest, username: str) -> HttpResponse:
    """A new password when someone has forgotten theirs; the validators apply as always."""
    user = get_object_or_404(User, username=username)
    form = SetPasswordForm(user, request.POST)
    if not form.is_valid():
        return _detail(request, user, status=400, password_form=form)
    actions.set_password(user, form.cleaned_data["new_password1"], own=False)
    messages.success(request, _("New password set. Give it to the person in private."))
    return redirect("accounts:staff_detail", username=user.username)
