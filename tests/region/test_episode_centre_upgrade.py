"""Episodes written before they recorded their centre get their client's centre from the
migration that adds it (`registry 0005`), in every centre of the region, and none is lost."""

from __future__ import annotations

from datetime import date

import pytest

from migration_state import migrate_to, state_at

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("registry", "0004_enrolment_attempt")]
AFTER = [("registry", "0005_episode_centre")]


@pytest.fixture
def before():
    with state_at(BEFORE) as apps:
        yield apps


def test_each_episode_gets_its_clients_centre(before):
    Centre = before.get_model("core", "Centre")
    Client = before.get_model("registry", "Client")
    Episode = before.get_model("registry", "Episode")
    a = Centre.objects.create(code="CA", name="A")
    b = Centre.objects.create(code="CB", name="B")
    for n, centre in enumerate([a, a, b]):
        person = Client.objects.create(
            centre=centre, code=f"PA-{n}", alias="x", sex="M", birth_year=1980
        )
        Episode.objects.create(
            client=person,
            enrolled_on=date(2025, 1, 1),
            discharged_on=date(2025, 6, 1),
            discharge_reason="moved",
        )
        Episode.objects.create(client=person, enrolled_on=date(2026, 1, 1))
    after = migrate_to(AFTER)
    episodes = after.get_model("registry", "Episode").objects
    assert episodes.count() == 6
    assert sorted(episodes.values_list("client__code", "centre__code")) == [
        ("PA-0", "CA"),
        ("PA-0", "CA"),
        ("PA-1", "CA"),
        ("PA-1", "CA"),
        ("PA-2", "CB"),
        ("PA-2", "CB"),
    ]
    assert episodes.filter(discharged_on__isnull=True).count() == 3
