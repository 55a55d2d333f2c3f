"""The page benchmark at small scale, checked for correctness only (never for speed: CI
machines differ): on a demo centre of 40 clients every main page answers each role that
uses it, and the dashboard's first load after the background pass computes nothing."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import pages  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)


def test_every_main_page_answers_on_the_small_demo():
    rows = pages.run("small", in_place=True)
    timed = [r for r in rows if r["role"] != "-"]
    assert len(timed) >= 30
    bad = [(r["role"], r["page"], r["status"]) for r in timed if r["status"] not in (200, 302)]
    assert not bad
    assert any(r["page"].startswith("indicator dashboard, first load after a dose") for r in timed)
