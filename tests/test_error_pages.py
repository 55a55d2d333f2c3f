"""Server errors get a page in the reader's language, not Django's bare "Server Error (500)";
a full disk gets its own page and a 503 with Retry-After.

The disk is full for real in both cases here: the kernel's /dev/full answers every write with
ENOSPC, and SQLite refuses to grow past `PRAGMA max_page_count` with SQLITE_FULL ("database
or disk is full"), the same error a full file system gives it."""

from __future__ import annotations

import os

import pytest
from django.db import DataError, connection
from django.http import HttpResponse
from django.test import Client as Browser
from django.urls import path

from pingan.ops.views import disk_full
from pingan.registry.models import Client
from pingan.urls import handler403, handler500
from pingan.urls import urlpatterns as project_urls


def write_to_full_disk(request):
    fd = os.open("/dev/full", os.O_WRONLY)
    try:
        os.write(fd, b"a dose record" * 100)
    finally:
        os.close(fd)
    return HttpResponse("written")  # pragma: no cover - /dev/full never takes a byte


def fail(request):
    raise RuntimeError("a bug")


def unstorable(request):
    raise DataError("value too long for type character varying(20)")


urlpatterns = [
    path("test-only/disk-full/", write_to_full_disk),
    path("test-only/bug/", fail),
    path("test-only/unstorable/", unstorable),
    *project_urls,
]
__all__ = ["handler403", "handler500", "urlpatterns"]


@pytest.fixture
def browser():
    """A test client that turns exceptions into answers, as the WSGI server does."""
    return Browser(raise_request_exception=False)


@pytest.mark.urls(__name__)
def test_a_full_disk_is_a_503_page_in_the_readers_language(browser):
    response = browser.get("/test-only/disk-full/")
    assert response.status_code == 503
    assert response["Retry-After"] == "300"
    page = response.content.decode()
    assert "磁盘已满" in page  # Chinese by default
    assert "Server Error" not in page
    english = browser.get("/test-only/disk-full/", HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 503
    assert "The server's disk is full" in english.content.decode()


@pytest.mark.urls(__name__)
def test_any_other_failure_is_a_500_page_that_says_what_to_do(browser):
    response = browser.get("/test-only/bug/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 500
    assert "Retry-After" not in response
    page = response.content.decode()
    assert "Something went wrong on the server" in page
    assert "a bug" not in page  # no traceback, no exception text
    assert "服务器" in browser.get("/test-only/bug/").content.decode()


def test_disk_full_is_recognised_through_the_driver_and_django_wrappers():
    import sqlite3

    from django.db.utils import OperationalError

    full = sqlite3.OperationalError("database or disk is full")
    full.sqlite_errorcode = 13
    try:
        try:
            raise full
        except sqlite3.OperationalError as exc:
            raise OperationalError(*exc.args) from exc
    except OperationalError as wrapped:
        assert disk_full(wrapped)
    assert disk_full(OSError(28, "No space left on device"))
    assert not disk_full(OSError(13, "Permission denied"))
    assert not disk_full(RuntimeError("x"))


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's own size limit")
def test_sqlite_full_while_saving_a_photo_is_a_503(browser, users):
    client = Client.objects.create(code="FULL-1", alias="满", sex="M", birth_year=1980)
    browser.force_login(users["manager"], backend="django.contrib.auth.backends.ModelBackend")
    photo = b"\x89PNG\r\n\x1a\n" + os.urandom(1_500_000)
    with connection.cursor() as cursor:
        # Pages freed by earlier tests would take the photo: fill them first (rolled back
        # with the test), so the file really has no room left.
        cursor.execute("PRAGMA freelist_count")
        (free,) = cursor.fetchone()
        cursor.execute("PRAGMA page_size")
        (page_size,) = cursor.fetchone()
        cursor.execute("CREATE TABLE test_fill_free_pages (b BLOB)")
        cursor.execute("INSERT INTO test_fill_free_pages VALUES (zeroblob(%s))", [free * page_size])
        cursor.execute("PRAGMA page_count")
        (pages,) = cursor.fetchone()
        cursor.execute(f"PRAGMA max_page_count = {pages}")
    try:
        from django.core.files.uploadedfile import SimpleUploadedFile

        response = browser.post(
            f"/clients/{client.external_id}/photo/upload/",
            {"photo": SimpleUploadedFile("p.png", photo, content_type="image/png")},
        )
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA max_page_count = 1073741823")
    assert response.status_code == 503, response.status_code
    assert "磁盘已满" in response.content.decode()
    client.refresh_from_db()
    assert not client.photo  # nothing half-saved


@pytest.mark.urls(__name__)
def test_a_value_the_database_refuses_is_a_400_that_says_nothing_was_saved(browser):
    response = browser.get("/test-only/unstorable/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "Nothing was saved" in response.content.decode()
    assert "character varying" not in response.content.decode()
