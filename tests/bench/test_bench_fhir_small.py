"""The FHIR export benchmark at a tiny scale, checked for what it reports (never for speed:
CI machines differ): the export and the floor read the same rows, and memory is sampled."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import fhir  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)


def test_tiny_centre_exports_and_reports_its_floor_and_memory():
    rows = {
        row["step"].split(":")[0]: row
        for row in fhir.run("small", clients=30, days=40, in_place=True)
    }
    export, floor = rows["export"], rows["floor"]
    # The floor writes one line per row read: doses, samples (twice), results, tests,
    # clients, episodes, prescriptions; the export one resource per row, plus the centre,
    # the staff pseudonym and the measures of each indicator (counted apart).
    assert export["resources"] > 30 * 40 * 0.8
    assert floor["resources"] >= export["resources"] - 5
    assert export["ratio_to_floor"].endswith("x")
    assert rows["MeasureReport"]["resources"] > 0
    memory = rows["memory during the export (RSS MB, per quarter)"]
    assert memory["before_mb"] > 0 and memory["quarters_mb"].count("/") == 3
