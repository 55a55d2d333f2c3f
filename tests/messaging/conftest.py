"""Fixtures of the messaging tests (helpers live in kannel_harness.py and sms_factories.py:
conftest modules cannot be imported reliably from test modules)."""

from __future__ import annotations

import pytest
from kannel_harness import require_kannel, stop


@pytest.fixture
def kannel_dir(tmp_path):
    """A folder for one Kannel (gateway and handset), stopped at the end of the test."""
    require_kannel()
    directory = tmp_path / "kannel"
    yield directory
    stop(directory)
