"""The landing page (each role to its own start screen), the police officer's start page,
and the error pages: 403, and the 500/503 page shown when a request fails on the server."""

import errno
import logging
import sys

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from pingan.accounts.decorators import requires
from pingan.accounts.roles import perm, role_of
from pingan.audit.log import record
from pingan.core import clock

START = {
    "nurse": "dosing:queue",
    "clinician": "dosing:queue",
    "manager": "registry:list",
    "cdc": "registry:list",
    "police": "police_home",
}


@requires()
def home(request: HttpRequest) -> HttpResponse:
    """Each role starts where its work is; a user without a role lands on their profile."""
    return redirect(START.get(role_of(request.user), "accounts:profile"))


@require_GET
@requires("file_referral", "record_check", any_of=True)
def police_home(request: HttpRequest) -> HttpResponse:
    """The officer's work: refer a person, their own referrals (counts only, so nothing
    here names a person), the record checks waiting, and the shared indicators. Each entry
    shows only when the officer's permissions open it; nothing clinical is read or linked."""
    from pingan.referrals.queries import officer_summary
    from pingan.region.stations import post_of
    from pingan.takehome.models import RequestStatus, TakeHomeRequest

    user = request.user
    context = {"summary": None, "checks_waiting": None, "post": post_of(user)}
    if user.has_perm(perm("file_referral")):
        context["summary"] = officer_summary(user, clock.today())
    if user.has_perm(perm("record_check")):
        context["checks_waiting"] = TakeHomeRequest.objects.filter(
            status=RequestStatus.APPROVED
        ).count()
    return render(request, "ops/police_home.html", context)


def forbidden(request: HttpRequest, exception=None) -> HttpResponse:
    """Every refusal is audited: a police officer reaching a clinical URL leaves a trace."""
    record("access_denied", target=request.path[:120], method=request.method)
    return render(request, "403.html", status=403)


# A full disk reaches a view in three shapes: OSError from a file write, SQLite's
# SQLITE_FULL ("database or disk is full") and PostgreSQL's disk_full (SQLSTATE 53100),
# the last two wrapped by Django in OperationalError with the driver's error as cause.
_DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
_SQLITE_FULL = 13
_PG_DISK_FULL = "53100"
RETRY_AFTER_SECONDS = 300


def disk_full(exc: BaseException | None) -> bool:
    """Whether the exception, or any exception it was raised from, says the disk is full."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in _DISK_FULL_ERRNOS:
            return True
        if getattr(exc, "sqlite_errorcode", None) == _SQLITE_FULL:
            return True
        if getattr(exc, "sqlstate", None) == _PG_DISK_FULL:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def missing_key(exc: BaseException | None) -> str | None:
    """The key id, when the exception (or one it was raised from) is a stored value that no
    configured field key opens: an operator's mistake to name, not a bug to hide."""
    from pingan.core.crypto import FieldKeyError

    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, FieldKeyError):
            return getattr(exc, "key_id", "") or "?"
        exc = exc.__cause__ or exc.__context__
    return None


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a page in the reader's language instead of Django's bare "Server Error
    (500)", and 503 with Retry-After when the disk is full (the fault is the server's, and
    temporary). Django logs the exception with its traceback before calling this.

    Rendered without the request's context processors: they read the session and the user
    from the database, which may be what just failed."""
    error = sys.exc_info()[1]
    full = disk_full(error)
    key = missing_key(error)
    status, template = (503, "503.html") if full else (500, "500.html")
    if key is not None:
        status, template = 503, "503_keys.html"
    try:
        body = loader.get_template(template).render({"key_id": key or ""})
    except Exception:  # noqa: BLE001 - the error page must not fail in turn
        logging.getLogger(__name__).exception("the %s page could not be rendered", status)
        body = (
            _(
                "The server's disk is full: what you entered was not saved. Tell the centre's administrator."
            )
            if full
            else _("Something went wrong on the server. Tell the centre's administrator.")
        )
        response = HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")
    else:
        response = HttpResponse(body, status=status)
    if full:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
