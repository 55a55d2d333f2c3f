"""Fixtures of the recall tests: the clock on a Monday, and a real Kannel for the end-to-end
test (its harness is shared with the messaging tests)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from django.utils import translation

# The Kannel harness lives with the messaging tests; a conftest cannot be imported, a
# plain module on the path can.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "messaging"))

from kannel_harness import require_kannel, stop  # noqa: E402
from recall_factories import MONDAY  # noqa: E402


@pytest.fixture(autouse=True)
def _english():
    """Messages are matched in English; the tests of the Chinese wording switch to it."""
    with translation.override("en"):
        yield


@pytest.fixture
def monday(clock_at):
    return clock_at(MONDAY)


@pytest.fixture
def kannel_dir(tmp_path):
    """A folder for one Kannel (gateway and handset), stopped at the end of the test."""
    require_kannel()
    directory = tmp_path / "kannel"
    yield directory
    stop(directory)
