"""`pingan` starts under production settings only with its keys, creates nothing it was not
asked to, and answers an operator's mistakes with one line instead of a traceback.

Each test runs the installed `pingan` in its own process, as an operator would; the ones that
need data point it at this test's database (`db_env`)."""

from __future__ import annotations

import os
import resource
import signal
import socket
import stat
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from cli_harness import (
    PINGAN,
    SECRET,
    clean_env,
    db_env,
    free_port,
    production_env,
    refused,
    run,
    tree,
)
from cryptography.fernet import Fernet
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext


def test_a_command_without_keys_refuses_to_start_and_writes_nothing(tmp_path):
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    env = clean_env(PINGAN_DATA_DIR=str(data))  # production is the default
    for args in (["migrate"], ["audit", "verify"], ["serve"], ["import", str(tmp_path)]):
        message = refused(run(args, env, cwd=tmp_path), "PINGAN_SECRET_KEY", "PINGAN_FIELD_KEYS")
        assert "will not start with production settings" in message
    assert tree(data) == []  # no database, no secret key, no key file
    assert tree(tmp_path) == ["data"]

    # The secret alone is not enough, nor a key alone.
    refused(run(["migrate"], {**env, "PINGAN_SECRET_KEY": SECRET}), "PINGAN_FIELD_KEYS")
    key = Fernet.generate_key().decode()
    refused(run(["migrate"], {**env, "PINGAN_FIELD_KEYS": key}), "PINGAN_SECRET_KEY")
    assert tree(data) == []


def test_the_wsgi_application_defaults_to_production_and_refuses_without_keys(tmp_path):
    env = clean_env(PINGAN_DATA_DIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-c", "import pingan.wsgi"], env=env, capture_output=True, text=True
    )
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and "PINGAN_FIELD_KEYS" in done.stderr
    assert tree(tmp_path) == []

    ok = production_env(tmp_path / "data")
    probe = (
        "import pingan.wsgi; from django.conf import settings; "
        "print(settings.SETTINGS_MODULE, settings.SESSION_COOKIE_SECURE)"
    )
    done = subprocess.run([sys.executable, "-c", probe], env=ok, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["pingan.settings.production", "True"]


def test_a_data_directory_that_does_not_exist_is_never_created(tmp_path):
    missing = tmp_path / "nonexistent"
    work = tmp_path / "cwd"
    work.mkdir()
    env = production_env(tmp_path / "made", PINGAN_DATA_DIR=str(missing))
    for args in (["migrate"], ["check"], ["keys", "status"], ["serve"]):
        refused(run(args, env, cwd=work), str(missing), "does not exist")
    assert not missing.exists()
    assert tree(work) == []
    # Not even the default ./pingan-data when the variable is missing altogether.
    env.pop("PINGAN_DATA_DIR")
    refused(run(["migrate"], env, cwd=work), str(work / "pingan-data"))
    assert tree(work) == []


def test_keys_are_made_only_when_asked_and_help_needs_no_configuration(tmp_path):
    env = clean_env()
    done = run(["keys", "generate"], env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    Fernet(done.stdout.strip().encode())
    target = tmp_path / "backup.key"
    done = run(["keys", "generate", "--file", str(target)], env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    first = target.read_bytes()
    refused(run(["keys", "generate", "--file", str(target)], env, cwd=tmp_path), str(target))
    assert target.read_bytes() == first  # never overwritten
    done = run(["serve", "--help"], env, cwd=tmp_path)
    assert done.returncode == 0 and "--port" in done.stdout
    # The demo runs with its own settings, never over a production configuration.
    production = {**env, "DJANGO_SETTINGS_MODULE": "pingan.settings.production"}
    refused(run(["demo", "--no-serve"], production, cwd=tmp_path), "demo settings")
    assert tree(tmp_path) == ["backup.key"]


def test_production_creates_a_private_database_and_passes_its_checks(tmp_path):
    data = tmp_path / "data"
    env = production_env(data)
    done = run(["migrate", "-v", "0"], env)
    assert done.returncode == 0, done.stderr
    database = data / "pingan.sqlite3"
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    assert sorted(p.name for p in data.iterdir()) == ["pingan.sqlite3"]  # no key file made

    done = run(["check"], env)
    assert done.returncode == 0, done.stdout + done.stderr
    with translation.override(settings.LANGUAGE_CODE):  # the language `pingan` speaks
        ok = gettext("ok")
        for topic in ("time zone", "data directory", "database", "field keys", "key rotation"):
            assert f"[{ok}] {gettext(topic)}:" in done.stdout, topic
    # Django's deployment checks run too (whatever they report, never a traceback).
    deploy = run(["check", "--deploy"], env)
    assert "Traceback" not in deploy.stderr and "System check" in deploy.stdout + deploy.stderr

    # A database left readable by others (made by an older release) fails the check.
    database.chmod(0o644)
    refused(run(["check"], env), "chmod 600", str(database))
    refused(run(["serve", "--port", str(free_port())], env), "chmod 600")


@pytest.mark.parametrize(
    ("variable", "value", "needle"),
    [
        ("PINGAN_TIME_ZONE", "Mars/Olympus", "Mars/Olympus"),
        ("PINGAN_DATABASE_URL", "garbage", "PINGAN_DATABASE_URL"),
        ("PINGAN_DATABASE_URL", "postgres://who:pw@db:notaport/x", "PINGAN_DATABASE_URL"),
        ("PINGAN_FIELD_KEYS", "not-a-key", "Key 1 of 1 in PINGAN_FIELD_KEYS"),
    ],
    ids=["time zone", "garbage URL", "bad URL", "malformed key"],
)
def test_bad_configuration_is_one_message(tmp_path, variable, value, needle):
    env = production_env(tmp_path / "data", **{variable: value})
    message = refused(run(["audit", "verify"], env), needle)
    assert "pw" not in message  # a database password is never echoed


def test_an_unreachable_postgresql_is_one_message(tmp_path):
    port = free_port()  # nothing listens there
    env = production_env(
        tmp_path / "data", PINGAN_DATABASE_URL=f"postgres://pingan@127.0.0.1:{port}/pingan"
    )
    refused(run(["audit", "verify"], env), "pingan:", str(port))
    refused(run(["check"], env), str(port))
    refused(run(["migrate"], env), str(port))


@contextmanager
def _read_only(folder: Path):
    """`folder` made read-only for this process's user: a read-only bind mount when running
    as root (root ignores modes), else mode 0500."""
    if os.geteuid() != 0:
        folder.chmod(0o500)
        try:
            yield
        finally:
            folder.chmod(0o700)
        return
    mounted = subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot bind-mount as root here: {mounted.stderr.decode()}")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)], check=True)
        yield
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_read_only_data_directory_is_one_message(tmp_path):
    data = tmp_path / "data"
    env = production_env(data)
    assert run(["migrate", "-v", "0"], env).returncode == 0
    with _read_only(data):
        for args in (["audit", "verify"], ["keys", "status"], ["migrate"]):
            done = run(args, env)
            assert "Traceback" not in done.stderr, (args, done.stderr)
            assert done.returncode == 0 or done.stderr.startswith("pingan: "), done.stderr
        refused(run(["check"], env), str(data))


@pytest.mark.django_db(transaction=True)
def test_serving_on_a_busy_port_is_one_message():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        refused(run(["serve", "--port", str(port)], db_env()), f"127.0.0.1:{port}")


@contextmanager
def _full_folder(folder: Path):
    """A folder on a tiny filesystem (a 64 KiB tmpfs, as root), so writing there fills the
    disk; yields the preexec function for the child (None, or a file-size limit where no
    tmpfs can be mounted, which fails writes the same way)."""
    folder.mkdir()
    if os.geteuid() == 0:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(folder)],
            capture_output=True,
        )
        if mounted.returncode == 0:
            try:
                yield None
            finally:
                subprocess.run(["umount", str(folder)], check=True)
            return

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    yield limit


@pytest.mark.django_db(transaction=True)
def test_backing_up_to_a_missing_folder_or_a_full_disk_is_one_message(tmp_path):
    key = Fernet.generate_key().decode()
    env = db_env(PINGAN_BACKUP_KEY=key)
    missing = tmp_path / "missing" / "pingan.backup"
    refused(run(["backup", str(missing)], env), str(missing.parent))
    assert not missing.parent.exists()

    full = tmp_path / "full"
    with _full_folder(full) as limit:
        # The clear copy of an SQLite database is made in TMPDIR: on the full disk too.
        done = subprocess.run(
            [PINGAN, "backup", str(full / "pingan.backup")],
            env={**env, "TMPDIR": str(full)},
            capture_output=True,
            text=True,
            timeout=180,
            preexec_fn=limit,
        )
        refused(done, "pingan.backup")
        assert tree(full) == []  # no half-written file, no clear copy left behind
