"""The Bulk Data flow over HTTP for the CDC: kick-off (202 + Content-Location), polling,
the manifest, the files, expiry, and every refusal as an OperationOutcome. A small
synthetic centre (the generator and the importer behind `pingan demo`) is enough here."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import orjson
import pytest
from django.test import override_settings

from pingan.audit.models import AuditEntry
from pingan.core import clock
from pingan.core.domain import Actor, acting_as
from pingan.exchange import actions
from pingan.exchange.models import ExportJob, JobStatus

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 17, 10, 30)
ASYNC = {"HTTP_PREFER": "respond-async", "HTTP_ACCEPT": "application/fhir+json"}


@pytest.fixture
def centre(db, settings, tmp_path):
    from pingan.imports.loader import load_directory
    from pingan.synth.generator import CentreSpec
    from pingan.synth.writers import write_centre

    settings.PINGAN_FHIR_EXPORT_DIR = tmp_path / "exports"
    with clock.frozen(NOW):
        spec = CentreSpec(clients=6, days=90, start=clock.today() - timedelta(days=90), seed=7)
        with tempfile.TemporaryDirectory() as folder:
            write_centre(spec, Path(folder), ("csv",), progress=False)
            with acting_as(Actor("test", "command")):
                load_directory(Path(folder), progress=False)
    with clock.frozen(NOW) as frozen:
        yield frozen


def _browser(client, user):
    """Signed in as `user`, reading English (the centre's default is Chinese)."""
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _problem(response) -> str:
    body = orjson.loads(response.content)
    assert body["resourceType"] == "OperationOutcome", body
    return body["issue"][0]["diagnostics"]


@override_settings(PINGAN_FHIR_RUNNER="inline")
def test_kick_off_poll_download_and_expiry(centre, client, users, new_user):
    cdc = _browser(client, users["cdc"])
    url = "/fhir/$export?_type=Patient,MedicationAdministration,Observation"
    response = cdc.get(url, **ASYNC)
    assert response.status_code == 202
    status_url = response["Content-Location"]
    assert status_url.startswith("http://testserver/fhir/export/")

    # Waiting: 202 with the progress, and a second kick-off is refused.
    waiting = cdc.get(status_url)
    assert waiting.status_code == 202 and waiting["X-Progress"].startswith("queued")
    again = cdc.get(url, **ASYNC)
    assert again.status_code == 409 and "still running" in _problem(again)
    assert again["Content-Location"] == status_url

    job = ExportJob.objects.get()
    actions.run_job(job.pk)  # what the runner does once the kick-off has committed

    done = cdc.get(status_url)
    assert done.status_code == 200 and done["Expires"]
    manifest = orjson.loads(done.content)
    assert manifest["requiresAccessToken"] is True
    assert manifest["request"].endswith(url.split("?")[1])
    outputs = {o["type"]: o for o in manifest["output"]}
    assert set(outputs) == {"Patient", "MedicationAdministration", "Observation"}
    for kind, output in outputs.items():
        file = cdc.get(output["url"])
        assert file.status_code == 200 and file["Content-Type"] == "application/fhir+ndjson"
        lines = b"".join(file.streaming_content).splitlines()
        assert len(lines) == output["count"] > 0
        assert {orjson.loads(line)["resourceType"] for line in lines} == {kind}

    entry = AuditEntry.objects.filter(action="fhir_export").latest("pk")
    assert entry.username == users["cdc"].username and entry.role == "cdc"
    assert entry.detail["types"] == ["Patient", "MedicationAdministration", "Observation"]
    assert entry.detail["resources"] == sum(o["count"] for o in manifest["output"])
    assert AuditEntry.objects.filter(action="fhir_export_download").count() == 3

    # Another CDC officer: neither the status nor the files.
    other = new_user("cdc", "cdc2")
    cdc.logout()
    stranger = _browser(client, other)
    assert stranger.get(status_url).status_code == 404
    for output in outputs.values():
        refused = stranger.get(output["url"])
        assert refused.status_code == 404 and b'resourceType":"Patient' not in refused.content
    stranger.logout()

    # After the set time the files are gone and the addresses say so.
    folder = actions.folder_of(job)
    assert folder.is_dir()
    centre.advance(hours=24, seconds=1)
    cdc = _browser(client, users["cdc"])
    expired = cdc.get(status_url)
    assert expired.status_code == 404 and "expired" in _problem(expired)
    assert cdc.get(outputs["Patient"]["url"]).status_code == 404
    assert not folder.exists()
    assert ExportJob.objects.get().status == JobStatus.EXPIRED


@override_settings(PINGAN_FHIR_RUNNER="inline")
def test_the_runner_starts_once_the_kick_off_commits(
    centre, client, users, django_capture_on_commit_callbacks
):
    cdc = _browser(client, users["cdc"])
    with django_capture_on_commit_callbacks(execute=True):
        response = cdc.get("/fhir/$export?_type=Patient", **ASYNC)
    assert response.status_code == 202
    done = cdc.get(response["Content-Location"])
    assert done.status_code == 200
    assert [o["type"] for o in orjson.loads(done.content)["output"]] == ["Patient"]


@pytest.mark.parametrize(
    ("query", "headers", "status", "says"),
    [
        ("_type=Patient,Banana", ASYNC, 400, "Unknown resource type: Banana"),
        ("_since=2099-01-01", ASYNC, 400, "is in the future"),
        ("_since=not-a-date", ASYNC, 400, "is not a date"),
        ("centre=ELSEWHERE", ASYNC, 403, "No centre with the code 'ELSEWHERE'"),
        ("_elements=id", ASYNC, 400, "Parameter not supported: _elements"),
        ("_outputFormat=text/csv", ASYNC, 400, "application/fhir+ndjson"),
        ("_type=Patient", {}, 400, "Prefer: respond-async"),
    ],
)
def test_bad_kick_offs_get_an_operation_outcome_and_start_nothing(
    centre, client, users, query, headers, status, says
):
    response = _browser(client, users["cdc"]).get(f"/fhir/$export?{query}", **headers)
    assert response.status_code == status
    assert response["Content-Type"] == "application/fhir+json"
    assert says in _problem(response)
    assert not ExportJob.objects.exists()


def test_roles_without_health_data_are_refused(centre, client, users):
    for role in ("nurse", "clinician", "manager", "police"):
        response = _browser(client, users[role]).get("/fhir/$export", **ASYNC)
        assert response.status_code == 403, role
        client.logout()
    assert not ExportJob.objects.exists()


def test_delete_cancels_and_the_user_may_start_again(centre, client, users):
    cdc = _browser(client, users["cdc"])
    status_url = cdc.get("/fhir/$export?_type=Patient", **ASYNC)["Content-Location"]
    assert cdc.delete(status_url).status_code == 202
    job = ExportJob.objects.get()
    assert job.status == JobStatus.CANCELLED
    actions.run_job(job.pk)  # a runner that wakes up late does nothing
    assert ExportJob.objects.get().status == JobStatus.CANCELLED
    assert not actions.folder_of(job).exists()
    assert cdc.get(status_url).status_code == 404
    assert cdc.get("/fhir/$export?_type=Patient", **ASYNC).status_code == 202


def test_a_runner_that_died_does_not_block_the_next_kick_off(centre, client, users):
    cdc = _browser(client, users["cdc"])
    first = cdc.get("/fhir/$export?_type=Patient", **ASYNC)["Content-Location"]
    centre.advance(minutes=11)  # nobody ran it: the server restarted
    second = cdc.get("/fhir/$export?_type=Patient", **ASYNC)
    assert second.status_code == 202
    failed = cdc.get(first)
    assert failed.status_code == 500 and "restarted" in _problem(failed)


def test_a_failed_export_is_reported_and_leaves_no_files(centre, client, users, monkeypatch):
    from pingan.exchange import fhir

    def broken(scope):
        raise RuntimeError("the disk went away")
        yield  # pragma: no cover

    monkeypatch.setitem(fhir.BY_TYPE, "Patient", fhir.Source("Patient", broken, lambda s: 1))
    cdc = _browser(client, users["cdc"])
    status_url = cdc.get("/fhir/$export?_type=Patient", **ASYNC)["Content-Location"]
    job = ExportJob.objects.get()
    actions.run_job(job.pk)
    failed = cdc.get(status_url)
    assert failed.status_code == 500 and "the disk went away" in _problem(failed)
    assert not actions.folder_of(job).exists()
    assert not list(actions.export_root().glob(".*partial*"))
    assert not AuditEntry.objects.filter(action="fhir_export").exists()


def test_a_file_name_is_never_a_path(centre, client, users):
    cdc = _browser(client, users["cdc"])
    status_url = cdc.get("/fhir/$export?_type=Patient", **ASYNC)["Content-Location"]
    actions.run_job(ExportJob.objects.get().pk)
    for name in (
        "manifest.json",
        "..%2F..%2Fsecret_key",
        "Observation.ndjson",
        "Patient.ndjson.bak",
    ):
        assert cdc.get(f"{status_url}{name}").status_code == 404, name


@pytest.mark.django_db(transaction=True)
def test_the_server_runs_the_export_in_a_thread(centre, client, users):
    """The default runner: the kick-off answers at once, a thread of the server writes the
    files, and polling sees the job through to its manifest."""
    import time

    cdc = _browser(client, users["cdc"])
    status_url = cdc.get("/fhir/$export", **ASYNC)["Content-Location"]
    deadline = time.monotonic() + 60
    while (answer := cdc.get(status_url)).status_code == 202 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert answer.status_code == 200, answer.content[:300]
    types = [o["type"] for o in orjson.loads(answer.content)["output"]]
    assert {"Patient", "MedicationAdministration", "Measure"} <= set(types)


@pytest.mark.parametrize("who", ["no role", "no user", "police"])
def test_every_export_action_checks_its_permission_first(db, users, who):
    """Called directly, as a job or another app would, with placeholders it must not reach."""
    from django.contrib.auth.models import User

    from pingan.core.domain import Forbidden

    user = {"no role": User.objects.create_user("nobody"), "no user": None}.get(who)
    if who == "police":
        user = users["police"]  # may export aggregates, never client-level records
    with pytest.raises(Forbidden):
        actions.kick_off(user, None if who != "police" else _cdc_request())
    with pytest.raises(Forbidden):
        actions.export_folder(None if who != "police" else _cdc_request(), None, by=user)
    assert not ExportJob.objects.exists()
    assert not AuditEntry.objects.exists()


def _cdc_request():
    from pingan.exchange import bulk

    return bulk.ExportRequest(("Patient",), ("PA-001",))
