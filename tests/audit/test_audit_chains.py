"""One audit chain per centre and one for the region: each starts at the genesis link and
numbers its own entries, a break names its chain and entry, and writers in two centres do
not wait for each other."""

from __future__ import annotations

import json
import threading
from io import StringIO

import pytest
from audit_tampering import Unguarded
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import RequestFactory

from migration_state import migrate_to, state_at
from pingan.audit import anchor, chain, keys
from pingan.audit.context import in_centre
from pingan.audit.log import _entry_key, check, record, verify
from pingan.audit.models import AuditEntry, AuditHead
from pingan.core import clock
from pingan.core.models import Centre
from pingan.region.middleware import AuditCentreMiddleware
from pingan.region.models import Membership
from staff_factory import make_user


@pytest.fixture
def centres(db) -> tuple[Centre, Centre]:
    return (
        Centre.objects.create(code="CA", name="Centre A"),
        Centre.objects.create(code="CB", name="Centre B"),
    )


def _chain(centre: Centre | None) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(centre=centre).order_by("seq"))


def _links_from_genesis(entries: list[AuditEntry]) -> bool:
    prev = chain.GENESIS
    for seq, entry in enumerate(entries, start=1):
        if (entry.seq, entry.prev_hash) != (seq, prev):
            return False
        prev = entry.hash
    return True


def _verify_command(*args: str) -> tuple[str, int]:
    out = StringIO()
    try:
        call_command("audit", "verify", "--no-progress", *args, stdout=out, stderr=StringIO())
    except CommandError as exc:
        return out.getvalue(), exc.returncode
    return out.getvalue(), 0


@pytest.mark.django_db
def test_each_centre_has_its_own_chain_from_genesis(centres):
    a, b = centres
    before = len(_chain(None))  # making the centres is on the region's chain
    for n in range(3):
        record("test_event", target=f"a:{n}", centre=a)
        record("test_event", target=f"b:{n}", centre=b)
    record("test_event", target="b:3", centre=b)
    record("test_event", target="region")
    chains = {None: _chain(None), a: _chain(a), b: _chain(b)}
    assert [len(chains[c]) for c in (None, a, b)] == [before + 1, 3, 4]
    assert all(_links_from_genesis(entries) for entries in chains.values())
    for centre in (a, b):
        head = AuditHead.objects.get(centre=centre)
        assert (head.seq, head.hash) == (chains[centre][-1].seq, chains[centre][-1].hash)
    report = check()
    assert report.intact and report.total == before + 8
    assert [(part.centre, part.total, part.intact) for part in report.chains] == [
        (None, before + 1, True),
        ("CA", 3, True),
        ("CB", 4, True),
    ]
    out, code = _verify_command()
    assert code == 0 and out.splitlines() == [
        f"chain region: {before + 1} entries, intact",
        "chain centre CA: 3 entries, intact",
        "chain centre CB: 4 entries, intact",
        f"audit chain intact: {before + 8} entries",
    ]


@pytest.mark.django_db
def test_tampering_in_one_centre_names_that_centre_and_entry_and_leaves_the_other_intact(
    centres,
):
    a, b = centres
    for n in range(3):
        record("test_event", target=f"a:{n}", centre=a)
        record("test_event", target=f"b:{n}", centre=b)
    victim = AuditEntry.objects.get(centre=b, seq=2)
    with Unguarded():
        AuditEntry.objects.filter(pk=victim.pk).update(target="b:rewritten")
    breaks = verify()
    assert [(b_.centre, b_.seq, b_.entry, str(b_.reason)) for b_ in breaks] == [
        ("CB", 2, victim.pk, "entry content changed after it was written")
    ]
    assert [(part.centre, part.intact) for part in check().chains] == [
        (None, True),
        ("CA", True),
        ("CB", False),
    ]
    out, code = _verify_command()
    assert code == 1
    assert out.splitlines() == [
        f"break at entry 2: entry content changed after it was written (centre CB, id {victim.pk})",
        f"chain region: {len(_chain(None))} entries, intact",
        "chain centre CA: 3 entries, intact",
        "chain centre CB: 3 entries, broken in 1 place(s)",
    ]


@pytest.mark.django_db
def test_moving_an_entry_to_another_centres_chain_breaks_both(centres):
    a, b = centres
    for n in range(2):
        record("test_event", target=f"a:{n}", centre=a)
        record("test_event", target=f"b:{n}", centre=b)
    moved = AuditEntry.objects.get(centre=a, seq=1)
    with Unguarded():
        AuditEntry.objects.filter(pk=moved.pk).update(centre=None, seq=100)
    assert {b_.centre for b_ in verify()} == {None, "CA"}


@pytest.mark.django_db
def test_deleting_a_whole_centre_chain_is_still_found_by_its_head(centres):
    a, _b = centres
    record("test_event", target="a:0", centre=a)
    with Unguarded():
        AuditEntry.objects.filter(centre=a).delete()
    assert [(b_.centre, str(b_.reason)) for b_ in verify()] == [
        ("CA", "log ends at 0 but 1 were written")
    ]


@pytest.mark.django_db
def test_explicit_centre_then_context_then_region(centres):
    a, b = centres
    assert record("test_event").centre_id is None
    with in_centre(a):
        assert record("test_event").centre_id == a.pk
        assert record("test_event", centre=b).centre_id == b.pk
        assert record("test_event", centre=None).centre_id is None  # the region's, named
        assert record("test_event", centre="CB").centre_id == b.pk  # by code
        with in_centre(lambda: b.pk):  # asked only when something is recorded
            assert record("test_event").centre_id == b.pk
        assert record("test_event").centre_id == a.pk
    assert record("test_event").centre_id is None
    with pytest.raises(ValueError), transaction.atomic():
        record("test_event", centre="NOWHERE")
    assert verify() == []


@pytest.mark.django_db
def test_a_signed_in_request_records_in_the_users_current_centre(centres):
    a, b = centres
    nurse = make_user("nurse")
    Membership.objects.create(user=nurse, centre=b)
    seen = {}

    def view(request):
        seen["entry"] = record("test_event", target="in a request")
        return None

    request = RequestFactory().get("/")
    request.user, request.session = nurse, SessionStore()
    AuditCentreMiddleware(view)(request)
    assert seen["entry"].centre_id == b.pk

    # Not signed in when the request arrived (signing in, a failed attempt): the region's.
    request = RequestFactory().post("/accounts/login/")
    request.user, request.session = AnonymousUser(), SessionStore()
    AuditCentreMiddleware(view)(request)
    assert seen["entry"].centre_id is None


@pytest.mark.django_db
def test_a_request_before_any_centre_exists_creates_none():
    nurse = make_user("nurse")
    request = RequestFactory().get("/")
    request.user, request.session = nurse, SessionStore()
    AuditCentreMiddleware(lambda r: record("test_event"))(request)
    assert not Centre.objects.exists()
    assert AuditEntry.objects.get().centre_id is None


@pytest.mark.django_db
def test_checkpoints_are_taken_and_checked_per_chain(centres, tmp_path, settings):
    settings.AUDIT_CHECKPOINT_DIR = str(tmp_path)
    a, b = centres
    record("test_event", target="region")
    for n in range(2):
        record("test_event", target=f"a:{n}", centre=a)
    for n in range(3):
        record("test_event", target=f"b:{n}", centre=b)
    taken = anchor.take_all()
    region = len(_chain(None))
    assert [(c.centre, c.seq) for c in taken] == [(None, region), ("CA", 2), ("CB", 3)]
    path = tmp_path / anchor.FILENAME
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    # The region's line keeps the format of the single chain; a centre's names it.
    assert [(line.get("centre"), line["v"]) for line in lines] == [
        (None, 1),
        ("CA", 2),
        ("CB", 2),
    ]
    reading = anchor.read(path, anchor.trusted_keys())
    assert reading.problems == [] and reading.checkpoints == taken
    assert anchor.latest(clock.today(), centre="CB") == taken[2]
    assert anchor.latest(clock.today()) == taken[0]
    out, code = _verify_command("--checkpoint", str(path))
    assert code == 0 and out.splitlines()[-1] == (
        f"audit chain intact: {region + 5} entries, agrees with 3 signed checkpoint(s)"
    )
    # With the audit key, someone re-links centre B's chain after changing an entry: the
    # chain holds in itself, and only B's checkpoint finds it.
    key = keys.audit_keys().current
    with Unguarded():
        prev = chain.GENESIS
        for entry in _chain(b):
            entry.target = "b:changed" if entry.seq == 2 else entry.target
            entry.hash = chain.link(_entry_key(entry, key), prev, entry.seq)
            AuditEntry.objects.filter(pk=entry.pk).update(
                target=entry.target, prev_hash=prev, hash=entry.hash
            )
            prev = entry.hash
        AuditHead.objects.filter(centre=b).update(hash=prev)
    assert verify() == []
    out, code = _verify_command("--checkpoint", str(path))
    assert code == 1
    broken = [line for line in out.splitlines() if line.startswith("break")]
    assert len(broken) == 1 and broken[0].startswith("break at entry 3: differs from the signed")
    assert broken[0].endswith(f"(centre CB, id {taken[2].entry})")
    assert "chain centre CA: 2 entries, intact" in out
    with pytest.raises(anchor.CheckpointError, match="centre CB"):
        anchor.take_all()


# Upgrading a database written with one chain ---------------------------------------------

BEFORE = [("audit", "0004_entry_key_id")]


@pytest.fixture
def single_chain():
    with state_at(BEFORE) as apps:
        yield apps


def _write_single_chain(apps, n: int) -> list[tuple[int, str]]:
    """Entries as the single chain wrote them (keyed links, one head row)."""
    Entry, Head = apps.get_model("audit", "AuditEntry"), apps.get_model("audit", "AuditHead")
    audit_keys = keys.audit_keys()
    prev, written = chain.GENESIS, []
    for seq in range(1, n + 1):
        fields = {
            "username": "nurse1",
            "role": "nurse",
            "action": "test_event",
            "target": f"old:{seq}",
            "client_code": "",
            "ip": "",
            "detail": {"n": seq},
        }
        at = clock.now()
        key = chain.entry_key(audit_keys.current, chain.content(at, fields))
        link = chain.link(key, prev, seq)
        Entry.objects.create(
            seq=seq, at=at, prev_hash=prev, hash=link, key_id=audit_keys.current_id, **fields
        )
        written.append((seq, link))
        prev = link
    Head.objects.update_or_create(pk=1, defaults={"seq": n, "hash": prev})
    return written


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_keeps_the_single_chain_as_the_regions_and_it_still_verifies(single_chain):
    written = _write_single_chain(single_chain, 4)
    migrate_to(MigrationExecutor(connection).loader.graph.leaf_nodes())
    assert list(AuditEntry.objects.order_by("seq").values_list("seq", "hash")) == written
    assert set(AuditEntry.objects.values_list("centre", flat=True)) == {None}
    head = AuditHead.objects.get()
    assert (head.pk, head.centre_id, head.seq, head.hash) == (1, None, 4, written[-1][1])
    assert verify() == []
    # The region's chain goes on from where the single chain ended; a centre's starts anew.
    centre = Centre.objects.create(code="CA", name="Centre A")  # itself entry 5
    entry = record("test_event", target="new", centre=centre)
    assert (entry.seq, entry.prev_hash) == (1, chain.GENESIS)
    assert record("test_event").seq == 6
    assert verify() == []
    # Still append-only: the rebuilt SQLite table has its triggers back.
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(seq=1).update(target="changed")


# Two centres writing at once (PostgreSQL: real row locks) ---------------------------------

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite has one writer at a time for the file"
)


def _run_together(work_a, work_b) -> list:
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def target(i: int, work) -> None:
        try:
            barrier.wait()
            results[i] = work()
        except Exception as error:  # the test inspects what each thread got
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i, w)) for i, w in enumerate((work_a, work_b))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_in_two_centres_both_succeed_and_each_chain_holds():
    a = Centre.objects.create(code="CA", name="Centre A")
    b = Centre.objects.create(code="CB", name="Centre B")

    def writes(centre):
        def work() -> int:
            for n in range(40):
                with transaction.atomic():
                    record("test_event", target=f"{centre.code}:{n}", centre=centre)
            return 40

        return work

    assert _run_together(writes(a), writes(b)) == [40, 40]
    for centre in (a, b):
        assert _links_from_genesis(_chain(centre)) and len(_chain(centre)) == 40
    assert verify() == []


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_writer_holding_one_centres_chain_does_not_hold_up_another_centre():
    a = Centre.objects.create(code="CA", name="Centre A")
    b = Centre.objects.create(code="CB", name="Centre B")
    record("test_event", centre=a)
    record("test_event", centre=b)
    holding, done = threading.Event(), threading.Event()

    def hold_a() -> int:
        with transaction.atomic():
            entry = record("test_event", target="holding", centre=a)
            holding.set()
            assert done.wait(timeout=30)
        return entry.seq

    def write(centre):
        def work() -> int:
            assert holding.wait(timeout=30)
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '2s'")
                return record("test_event", target="meanwhile", centre=centre).seq

        return work

    # While A's head is locked by an open transaction, B writes and commits.
    results = _run_together(hold_a, lambda: _then(write(b), done))
    assert results == [2, 2]
    # The same in centre A itself waits for the lock (and here gives up after 2 s).
    holding.clear(), done.clear()
    results = _run_together(hold_a, lambda: _then(write(a), done))
    assert results[0] == 3 and "lock timeout" in str(results[1])
    assert verify() == []


def _then(work, done: threading.Event):
    try:
        return work()
    finally:
        done.set()
