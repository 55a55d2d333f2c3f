"""Exports as actions: each checks its own permission and is audited with who, which types,
which centres and how many resources.

- `export_folder`: the command line's export, written straight into a folder.
- `kick_off`, `run_job`, `cancel`, `expire`: the HTTP flow (FHIR Bulk Data kick-off,
  status, download). A kick-off records the job and, once committed, runs it in a thread of
  the server (`PINGAN_FHIR_RUNNER = "thread"`, the default) or right away in the same
  thread (`"inline"`, for tests and single-threaded servers). Its files are served to the
  user who asked, until `PINGAN_FHIR_EXPORT_HOURS` (default 24) after it finished; then
  they are deleted.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from pingan.audit.log import record
from pingan.core import clock
from pingan.core.domain import Actor, Refusal, acting, acting_as, require, role_of

from . import bulk
from .models import ACTIVE_STATUSES, ExportJob, JobStatus

log = logging.getLogger(__name__)

# A job whose runner has not reported for this long is taken as stopped (the server
# restarted while it ran) and no longer blocks its user's next kick-off.
STALE_AFTER = timedelta(minutes=10)
# At most one progress write per job this often (the status page shows it).
HEARTBEAT_SECONDS = 1.0


def permission_for(audience: str) -> str:
    """Client-level records are for the CDC; aggregates for whoever may export reports."""
    return "view_health_data" if audience == "cdc" else "export_indicators"


# Whoever holds neither may not export anything: each action checks this first, before it
# reads its arguments, then the permission of the audience asked for.
ANY_EXPORT = ("view_health_data", "export_indicators")


def _audit(request: bulk.ExportRequest, written: bulk.Written, target: str) -> None:
    record(
        "fhir_export",
        target=target,
        types=list(written.counts) or list(request.types),
        asked_types=list(request.types),
        centres=list(request.centres),
        since=request.since.isoformat() if request.since else "",
        audience=request.audience,
        resources=written.total,
        counts=written.counts,
    )


# The command line ---------------------------------------------------------------------------


def export_folder(
    request: bulk.ExportRequest,
    folder: Path,
    by=None,
    progress=None,
    validate: bool = False,
) -> bulk.Written:
    """Write the export into `folder` and audit it. Run by a command on the server, `by` may
    be None (the operator); otherwise `by` needs the audience's permission."""
    require(by, *ANY_EXPORT, any_of=True)
    require(by, permission_for(request.audience))
    written = bulk.write(request, folder, progress=progress, validate=validate)
    try:
        with acting(by), transaction.atomic():
            _audit(request, written, str(Path(folder).resolve())[-120:])
    except BaseException:
        # Not audited, not exported.
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return written


# The HTTP flow ------------------------------------------------------------------------------


def export_root() -> Path:
    """Where HTTP exports are written (`PINGAN_FHIR_EXPORT_DIR`, default in the data
    directory, readable by the server's user only)."""
    found = getattr(settings, "PINGAN_FHIR_EXPORT_DIR", None)
    return Path(found) if found else Path(settings.DATA_DIR) / "exports" / "fhir"


def folder_of(job: ExportJob) -> Path:
    return export_root() / str(job.external_id)


def ttl() -> timedelta:
    return timedelta(hours=float(getattr(settings, "PINGAN_FHIR_EXPORT_HOURS", 24)))


def _stop_stale(user) -> None:
    limit = clock.now() - STALE_AFTER
    ExportJob.objects.filter(
        requested_by=user, status__in=ACTIVE_STATUSES, heartbeat_at__lt=limit
    ).update(
        status=JobStatus.FAILED,
        finished_at=clock.now(),
        error="stopped without finishing (the server restarted while it ran)",
    )


def kick_off(user, request: bulk.ExportRequest, request_url: str = "", ip: str = "") -> ExportJob:
    """Record the export job and start it once committed. Refuses a second one while one of
    the same user's is waiting or running."""
    require(user, *ANY_EXPORT, any_of=True)
    require(user, permission_for(request.audience))
    expire()
    _stop_stale(user)
    try:
        with acting(user), transaction.atomic():
            job = ExportJob.objects.create(
                requested_by=user,
                created_by=user,
                requested_from=ip[:64],
                request_url=request_url[:500],
                types=list(request.types),
                centres=list(request.centres),
                since=request.since,
                audience=request.audience,
                heartbeat_at=clock.now(),  # waiting counts as alive until STALE_AFTER
            )
            transaction.on_commit(lambda: start(job.pk))
    except IntegrityError as exc:
        running = ExportJob.objects.filter(requested_by=user, status__in=ACTIVE_STATUSES).first()
        refusal = Refusal(
            _("An export of yours is still running: wait for it to finish or cancel it first."),
            code="export_running",
        )
        refusal.job = running
        raise refusal from exc
    return job


def start(job_id: int) -> None:
    if getattr(settings, "PINGAN_FHIR_RUNNER", "thread") == "inline":
        run_job(job_id)
        return
    thread = threading.Thread(target=_run_in_thread, args=(job_id,), daemon=True)
    thread.name = f"fhir-export-{job_id}"
    thread.start()


def _run_in_thread(job_id: int) -> None:
    try:
        run_job(job_id)
    finally:
        connection.close()


def request_of(job: ExportJob) -> bulk.ExportRequest:
    return bulk.ExportRequest(tuple(job.types), tuple(job.centres), job.since, job.audience)


def run_job(job_id: int) -> None:
    """Run a queued job to its end: complete (audited), cancelled or failed."""
    now = clock.now()
    if not ExportJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=now, heartbeat_at=now
    ):
        return  # cancelled before it started, or already taken
    job = ExportJob.objects.select_related("requested_by").get(pk=job_id)
    request = request_of(job)
    beat = {"at": time.monotonic(), "pending": 0}

    def progress(count: int) -> None:
        beat["pending"] += count
        if time.monotonic() - beat["at"] < HEARTBEAT_SECONDS:
            return
        moved = ExportJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
            written=F("written") + beat["pending"], heartbeat_at=clock.now()
        )
        beat.update(at=time.monotonic(), pending=0)
        if not moved:
            raise bulk.Cancelled

    user = job.requested_by
    actor = Actor(user.get_username(), role_of(user), job.requested_from)
    folder = folder_of(job)
    try:
        expected = bulk.expected(request, bulk.scopes_of(request, now))
        ExportJob.objects.filter(pk=job_id).update(expected=expected)
        written = bulk.write(
            request, folder, progress=progress, request_url=job.request_url, now=now
        )
        with acting_as(actor), transaction.atomic():
            finished = clock.now()
            done = ExportJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
                status=JobStatus.COMPLETE,
                finished_at=finished,
                heartbeat_at=finished,
                expires_at=finished + ttl(),
                written=written.total,
                counts=written.counts,
            )
            if not done:
                raise bulk.Cancelled
            _audit(request, written, str(job.external_id))
    except bulk.Cancelled:
        shutil.rmtree(folder, ignore_errors=True)
    except Exception as exc:  # noqa: BLE001 - recorded on the job, shown on its status
        log.exception("FHIR export %s failed", job.external_id)
        shutil.rmtree(folder, ignore_errors=True)
        ExportJob.objects.filter(pk=job_id).exclude(status=JobStatus.CANCELLED).update(
            status=JobStatus.FAILED, finished_at=clock.now(), error=str(exc)[:500]
        )


def cancel(user, job: ExportJob) -> None:
    """Stop a waiting or running export, or delete a finished one's files (Bulk Data's
    DELETE on the status URL). Only the user who asked for it may."""
    require(user, *ANY_EXPORT, any_of=True)
    require(user, permission_for(job.audience))
    if job.requested_by_id != user.pk:
        raise Refusal(_("No such export."), code="not_found")
    with acting(user), transaction.atomic():
        ExportJob.objects.filter(
            pk=job.pk, status__in=[*ACTIVE_STATUSES, JobStatus.COMPLETE]
        ).update(status=JobStatus.CANCELLED, finished_at=clock.now())
    shutil.rmtree(folder_of(job), ignore_errors=True)


def expire() -> int:
    """Delete the files of every finished export past its time; returns how many."""
    now = clock.now()
    due = list(ExportJob.objects.filter(status=JobStatus.COMPLETE, expires_at__lte=now))
    for job in due:
        if ExportJob.objects.filter(pk=job.pk, status=JobStatus.COMPLETE).update(
            status=JobStatus.EXPIRED
        ):
            shutil.rmtree(folder_of(job), ignore_errors=True)
    return len(due)


def audit_download(job: ExportJob, name: str) -> None:
    with transaction.atomic():
        record("fhir_export_download", target=str(job.external_id), file=name)
