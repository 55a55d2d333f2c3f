"""The landing page (each role to its own start screen) and the 403 page."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from pingan.accounts.decorators import requires
from pingan.accounts.roles import role_of
from pingan.audit.log import record

START = {
    "nurse": "dosing:queue",
    "clinician": "dosing:queue",
    "manager": "registry:list",
    "cdc": "registry:list",
    "police": "accounts:police_home",
}


@requires()
def home(request: HttpRequest) -> HttpResponse:
    """Each role starts where its work is; a user without a role lands on their profile."""
    return redirect(START.get(role_of(request.user), "accounts:profile"))


def forbidden(request: HttpRequest, exception=None) -> HttpResponse:
    """Every refusal is audited: a police officer reaching a clinical URL leaves a trace."""
    record("access_denied", target=request.path[:120], method=request.method)
    return render(request, "403.html", status=403)
