"""The demo region, built once for the session by `pingan demo` in its own data directory
(tests/synth/demo_process.py); tests read it, and copy it before changing anything."""

from __future__ import annotations

import pytest
from demo_process import build


@pytest.fixture(scope="session")
def demo_region(tmp_path_factory):
    """(data directory, the command's output) of `pingan demo --clients 40`."""
    data_dir = tmp_path_factory.mktemp("demo-region")
    done = build(data_dir)
    assert done.returncode == 0, done.stderr
    return data_dir, done.stdout
