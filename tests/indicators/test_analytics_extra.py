"""DuckDB and pyarrow are an extra (`pingan[analytics]`): nothing a centre's server runs
imports them, and the paths that need them say what to install when they are missing."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from pingan.core import extras

ANALYTICS = ("duckdb", "pyarrow", "pandas")


def test_the_site_and_every_command_load_without_the_analytics_libraries():
    """A fresh interpreter sets Django up, loads the URL map (every view) and every
    management command, and has still not imported DuckDB, pyarrow or pandas."""
    script = (
        "import json, sys, django\n"
        "django.setup()\n"
        "import pingan.urls\n"
        "from django.core.management import get_commands, load_command_class\n"
        "for name, app in get_commands().items():\n"
        "    if app.startswith('pingan'):\n"
        "        load_command_class(app, name)\n"
        f"print(json.dumps([m for m in {ANALYTICS!r} if m in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


@pytest.fixture
def without_analytics(monkeypatch):
    """As if the extra were not installed: `import duckdb` / `import pyarrow` fail."""
    for name in ("duckdb", "pyarrow", "pyarrow.parquet"):
        monkeypatch.setitem(sys.modules, name, None)


def test_a_missing_library_is_named_with_what_to_install(without_analytics):
    for load, library in ((extras.duckdb, "DuckDB"), (extras.pyarrow, "pyarrow")):
        with pytest.raises(extras.AnalyticsMissing) as caught:
            load()
        assert library in str(caught.value) and "pingan[analytics]" in str(caught.value)
        assert isinstance(caught.value, CommandError | ImportError)


@pytest.mark.django_db
def test_commands_refuse_with_the_message_and_write_nothing(without_analytics, tmp_path):
    (tmp_path / "doses.parquet").write_bytes(b"")
    with pytest.raises(CommandError, match=r"DuckDB.*pingan\[analytics\]"):
        call_command("indicators", "--engine", "duckdb", "--parquet", str(tmp_path))
    with pytest.raises(CommandError, match=r"pyarrow.*pingan\[analytics\]"):
        call_command("indicators", "--export-parquet", str(tmp_path / "export"))
    out = tmp_path / "synth"
    with pytest.raises(CommandError, match=r"pyarrow.*pingan\[analytics\]"):
        call_command(
            "synth", "--clients", "3", "--days", "10", "--out", str(out), "--format", "both"
        )
    assert not out.exists() and not (tmp_path / "export").exists()


@pytest.mark.django_db
def test_the_centres_own_figures_need_none_of_it(without_analytics):
    call_command("indicators", "--period", "2026-03", "--format", "json")
