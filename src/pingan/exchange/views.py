"""The FHIR Bulk Data flow over HTTP: kick-off, status (with the manifest), download.

Thin: each view reads the request, calls an action and answers in FHIR's terms (202 with
`Content-Location`, a manifest, NDJSON files, an OperationOutcome for every refusal). The
CDC signs in as for any other page; the files are served only to the user who asked for
them, and not after they expire.

The kick-off must carry `Prefer: respond-async`, as Bulk Data asks: a page of another site
can make a signed-in browser send a plain GET, but not that header.
"""

from __future__ import annotations

from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from pingan.accounts.decorators import requires
from pingan.core.domain import Refusal, current_actor

from . import actions, bulk
from .models import ExportJob, JobStatus

FHIR_JSON = "application/fhir+json"
NDJSON = "application/fhir+ndjson"
RETRY_AFTER = "2"
# Refusal code → (HTTP status, OperationOutcome issue type).
STATUS_OF = {
    "unknown_centre": (403, "forbidden"),
    "forbidden": (403, "forbidden"),
    "export_running": (409, "conflict"),
    "not_found": (404, "not-found"),
}


def outcome(status: int, code: str, message: str, severity: str = "error") -> JsonResponse:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": message}],
    }
    return JsonResponse(body, status=status, content_type=FHIR_JSON)


def _refused(refusal: Refusal) -> JsonResponse:
    status, code = STATUS_OF.get(refusal.code, (400, "invalid"))
    return outcome(status, code, refusal.message)


def _status_url(request: HttpRequest, job: ExportJob) -> str:
    return request.build_absolute_uri(reverse("exchange:status", args=[job.external_id]))


def _param(request: HttpRequest, name: str) -> str:
    values = request.GET.getlist(name)
    return ",".join(v for v in values if v)


@requires("view_health_data")
@require_http_methods(["GET"])
def kick_off(request: HttpRequest) -> HttpResponse:
    if "respond-async" not in request.headers.get("Prefer", ""):
        return outcome(
            400, "invalid", _("Ask for the export with the header 'Prefer: respond-async'.")
        )
    unsupported = sorted(set(request.GET) - {"_type", "_since", "centre", "_outputFormat"})
    if unsupported:
        return outcome(
            400,
            "not-supported",
            _("Parameter not supported: %(names)s.") % {"names": ", ".join(unsupported)[:200]},
        )
    output = request.GET.get("_outputFormat", "")
    if output and output not in ("application/fhir+ndjson", "application/ndjson", "ndjson"):
        return outcome(
            400, "not-supported", _("The only output format is application/fhir+ndjson.")
        )
    try:
        asked = bulk.ask(
            types=_param(request, "_type"),
            since=request.GET.get("_since"),
            centre=request.GET.get("centre"),
            user=request.user,
        )
        job = actions.kick_off(
            request.user, asked, request.build_absolute_uri(), current_actor().ip
        )
    except Refusal as refusal:
        response = _refused(refusal)
        running = getattr(refusal, "job", None)
        if running is not None:
            response["Content-Location"] = _status_url(request, running)
        return response
    response = HttpResponse(status=202)
    response["Content-Location"] = _status_url(request, job)
    return response


def _own_job(request: HttpRequest, job_id) -> ExportJob | None:
    """The user's own job; another user's is answered as if it did not exist."""
    return ExportJob.objects.filter(external_id=job_id, requested_by=request.user).first()


def _gone(job: ExportJob | None) -> JsonResponse | None:
    if job is None:
        return outcome(404, "not-found", _("No such export."))
    if job.status == JobStatus.EXPIRED:
        return outcome(
            404,
            "not-found",
            _("This export expired at %(when)s: its files are deleted. Ask for a new one.")
            % {"when": timezone.localtime(job.expires_at).strftime("%Y-%m-%d %H:%M")},
        )
    if job.status == JobStatus.CANCELLED:
        return outcome(404, "not-found", _("This export was cancelled."))
    return None


@requires("view_health_data")
@require_http_methods(["GET", "DELETE"])
def status(request: HttpRequest, job_id) -> HttpResponse:
    actions.expire()
    job = _own_job(request, job_id)
    if request.method == "DELETE" and job is not None and _gone(job) is None:
        actions.cancel(request.user, job)
        return HttpResponse(status=202)
    gone = _gone(job)
    if gone is not None:
        return gone
    if job.is_active:
        response = HttpResponse(status=202)
        response["X-Progress"] = f"{job.status}: {job.written} of {job.expected or '?'} resources"
        response["Retry-After"] = RETRY_AFTER
        return response
    if job.status == JobStatus.FAILED:
        return outcome(500, "exception", _("The export failed: %(error)s") % {"error": job.error})
    written = bulk.Written(transaction_time=job.started_at, counts=job.counts)

    def url(name: str) -> str:
        return request.build_absolute_uri(
            reverse("exchange:download", args=[job.external_id, name])
        )

    response = JsonResponse(bulk.manifest(written, url, job.request_url), status=200)
    response["Expires"] = http_date(job.expires_at.timestamp())
    return response


@requires("view_health_data")
@require_http_methods(["GET"])
def download(request: HttpRequest, job_id, name: str) -> HttpResponse:
    actions.expire()
    job = _own_job(request, job_id)
    gone = _gone(job)
    if gone is not None:
        return gone
    if job.status != JobStatus.COMPLETE:
        return outcome(404, "not-found", _("This export has no files yet."))
    # Only the files the manifest lists: a name is never a path.
    if name not in {f"{t}.ndjson" for t in job.counts}:
        return outcome(
            404, "not-found", _("This export has no file named %(name)s.") % {"name": name[:80]}
        )
    path = actions.folder_of(job) / name
    if not path.is_file():
        return outcome(404, "not-found", _("This export's files are no longer here."))
    actions.audit_download(job, name)
    response = FileResponse(path.open("rb"), content_type=NDJSON)
    response["Cache-Control"] = "no-store"
    return response
