"""The landing page (each role to its own start screen) and the 403 page."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from pingan.accounts.roles import role_of
from pingan.audit.log import record

START = {
    "nurse": "dosing:queue",
    "clinician": "dosing:queue",
    "manager": "registry:list",
    "cdc": "registry:list",
    "police": "accounts:police_home",
}


@login_required
def home(request):
    return redirect(START.get(role_of(request.user), "accounts:profile"))


def forbidden(request, exception=None):
    """Every refusal is audited: a police officer reaching a clinical URL leaves a trace."""
    record("access_denied", target=request.path[:120])
    return render(request, "403.html", status=403)
