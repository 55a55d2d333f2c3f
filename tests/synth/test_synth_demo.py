"""`pingan demo` end to end in its own data directory (DEMO, the first centre of the
region: tests/synth/test_synth_region_demo.py checks the others), the importer taking synth
output, and `pingan serve` refusing an unmigrated database."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import sys
from datetime import timedelta

import pytest
from demo_process import DEMO_CLIENTS, PINGAN, env_for, run

from pingan.core import clock
from pingan.synth.demo import DEMO_PASSWORD
from pingan.synth.generator import CentreSpec
from pingan.synth.writers import write_centre

SIGN_IN = """
import json, os, django
django.setup()
from django.test import Client
out = {}
for role in ("nurse", "clinician", "manager", "cdc", "police"):
    browser = Client()
    answer = browser.post("/accounts/login/", {"username": role, "password": os.environ["PW"]})
    landing = browser.get("/", follow=True)
    out[role] = [answer.status_code, landing.status_code, landing.request["PATH_INFO"]]
wrong = Client().post("/accounts/login/", {"username": "nurse", "password": "not-it-at-all"})
out["wrong"] = [wrong.status_code, "_auth_user_id" in wrong.client.session]
print(json.dumps(out))
"""

# Every protected value of the demo, decrypted with the demo's own key: the test then looks
# for each of them in the raw database file (and its WAL).
PROTECTED = """
import json, django
django.setup()
from pingan.lockbox.models import Box
from pingan.referrals.models import PoliceReferral
from pingan.registry.models import Identity
values = []
for i in Identity.objects.all():
    values += [i.name, i.national_id, i.phone, i.address]
    if i.phone.startswith("+86"):
        values.append(i.phone[3:])
values += [b.secret for b in Box.objects.all()]
for r in PoliceReferral.objects.all():
    values += [r.person_name, r.person_contact]
print(json.dumps([v for v in values if len(v) >= 2]))
"""


# The newer apps in the demo: the detox unit's beds and money, referrals and what the demo
# officer may see of them, services, lockboxes and the take-home chain with work for the
# PIN text run. Run against the demo's own database, in a separate process.
NEWER_APPS = """
import json, django
django.setup()
from datetime import timedelta
from django.contrib.auth.models import User
from django.db.models import Count
from django.test import Client as Browser
from pingan.core import clock
from pingan.inpatient.models import Bed, CowsScore, Stay, TariffVersion, TaperOrder
from pingan.lockbox.models import Box
from pingan.messaging.actions import queue_due_pins
from pingan.referrals.models import CareReferral, PoliceReferral
from pingan.referrals.queries import officer_rows
from pingan.services.models import Attendance, NaloxoneKit, ServiceSession
from pingan.synth.demo_inpatient_care import ledger_problems
from pingan.takehome.models import TakeHomeBottle, TakeHomeRequest
today = clock.today()
out = {}
open_stays = Stay.objects.filter(discharged_at__isnull=True)
out["beds"] = Bed.objects.count()
out["open"] = open_stays.count()
out["beds_twice"] = open_stays.values("bed").annotate(n=Count("pk")).filter(n__gt=1).count()
out["stays"] = Stay.objects.count()
out["readmissions_same_person"] = all(
    s.readmission_of.person_id == s.person_id and s.readmission_of.discharged_on <= s.admitted_on
    for s in Stay.objects.filter(readmission_of__isnull=False).select_related("readmission_of")
)
out["readmissions"] = Stay.objects.filter(readmission_of__isnull=False).count()
out["published_tariffs"] = TariffVersion.objects.filter(published_at__isnull=False).count()
opioid = open_stays.exclude(drug="methamphetamine")
out["open_opioid"] = opioid.count()
out["open_with_taper"] = TaperOrder.objects.filter(
    stay__in=opioid, superseded_at__isnull=True).values("stay").distinct().count()
out["cows_open"] = CowsScore.objects.filter(stay__in=open_stays).count()
out["ledger_problems"] = ledger_problems()
police = User.objects.get(username="police")
mine = PoliceReferral.objects.filter(officer=police)
out["referrals"] = PoliceReferral.objects.count()
out["mine"] = mine.count()
rows = officer_rows(police)
out["rows"] = len(rows)
out["rows_only_mine"] = {r.external_id for r in rows} == {str(r.external_id) for r in mine}
out["feedback"] = sorted({r.feedback for r in rows})
browser = Browser()
browser.post("/accounts/login/", {"username": "police", "password": "pingan-demo-2026"})
listing = browser.get("/referrals/police/mine/")
other = PoliceReferral.objects.exclude(officer=police).first()
out["mine_page"] = [listing.status_code, str(mine.first().external_id) in listing.content.decode()]
out["other_detail"] = browser.get(f"/referrals/police/mine/{other.external_id}/").status_code
out["police_inpatient"] = browser.get("/inpatient/").status_code
out["care"] = CareReferral.objects.count()
out["sessions"] = ServiceSession.objects.count()
out["attendance"] = Attendance.objects.count()
out["kits"] = NaloxoneKit.objects.count()
out["boxes"] = Box.objects.filter(retired_on__isnull=True).count()
out["requests"] = sorted(set(TakeHomeRequest.objects.values_list("status", flat=True)))
out["bottles_ahead"] = TakeHomeBottle.objects.filter(day__gt=today).count()
out["bottles_without_box"] = TakeHomeBottle.objects.filter(box__isnull=True).count()
out["pins_tomorrow"] = queue_due_pins(today + timedelta(days=1), ignore_hour=True).queued
print(json.dumps(out))
"""


def test_demo_builds_a_centre_whose_logins_work(demo_region):
    data_dir, stdout = demo_region
    env = env_for(data_dir)
    for role in ("nurse", "clinician", "manager", "cdc", "police"):
        assert re.search(rf"^  {role} +\S", stdout, re.MULTILINE), role
    assert DEMO_PASSWORD in stdout

    db = sqlite3.connect(data_dir / "pingan.sqlite3")
    one = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
    assert one("SELECT code FROM core_centre ORDER BY id") == "DEMO"
    demo_clients = (
        "SELECT COUNT(*) FROM registry_client c JOIN core_centre ct ON ct.id = c.centre_id "
        "WHERE ct.code = 'DEMO'"
    )
    assert one(demo_clients) == DEMO_CLIENTS
    assert one("SELECT COUNT(*) FROM dosing_dose") > DEMO_CLIENTS * 100
    in_treatment = one("SELECT COUNT(*) FROM registry_episode WHERE discharged_on IS NULL")
    active = one("SELECT COUNT(*) FROM dosing_prescription WHERE superseded_at IS NULL")
    assert in_treatment == active > 20
    today = one("SELECT MAX(date) FROM dosing_dose")
    assert one(f"SELECT COUNT(*) FROM dosing_dose WHERE date = '{today}'") > 0
    assert one("SELECT COUNT(*) FROM dosing_stockentry WHERE kind = 'receipt'") >= 1
    assert one("SELECT MIN(balance_ml) FROM dosing_stockentry") >= 0
    assert one("SELECT COUNT(*) FROM registry_consent WHERE purpose = 'sms'") > 0
    assert one("SELECT COUNT(*) FROM registry_identity") > 0
    db.close()
    # Identity is stored encrypted: no name, national ID, phone or address (nor box secret,
    # nor referred person) in clear in the database or its WAL.
    raw = b"".join(
        (data_dir / name).read_bytes() if (data_dir / name).exists() else b""
        for name in ("pingan.sqlite3", "pingan.sqlite3-wal")
    )
    assert not re.search(rb"53\d{4}(19|20)\d{9}[0-9X]", raw)
    protected = run([sys.executable, "-c", PROTECTED], env)
    assert protected.returncode == 0, protected.stderr
    values = json.loads(protected.stdout.strip().splitlines()[-1])
    assert len(values) > 40  # the demo really has identities to hide
    leaked = [value for value in values if value.encode("utf-8") in raw]
    assert leaked == []

    signed = run([sys.executable, "-c", SIGN_IN], env)
    assert signed.returncode == 0, signed.stderr
    result = json.loads(signed.stdout.strip().splitlines()[-1])
    starts = {
        "nurse": "/dosing/queue/",
        "clinician": "/dosing/queue/",
        "police": "/police/",
    }
    for role in ("nurse", "clinician", "manager", "cdc", "police"):
        posted, landed, path = result[role]
        assert posted == 302 and landed == 200, (role, result[role])
        assert path != "/accounts/login/", role
        if role in starts:
            assert path == starts[role]
    assert result["wrong"] == [200, False]

    checked = run([sys.executable, "-c", NEWER_APPS], env)
    assert checked.returncode == 0, checked.stderr
    newer = json.loads(checked.stdout.strip().splitlines()[-1])
    # Detox unit: 40 beds, never two patients in one, a year of stays with returns linked
    # by the card, every ledger settled or owing (never overpaid, never over-refunded).
    assert newer["beds"] == 40
    assert 0 < newer["open"] <= newer["beds"] and newer["beds_twice"] == 0
    assert newer["stays"] > 150 and newer["readmissions"] > newer["stays"] // 5
    assert newer["readmissions_same_person"]
    assert newer["published_tariffs"] == 2
    assert newer["open_with_taper"] == newer["open_opioid"]
    assert newer["cows_open"] > 0
    assert newer["ledger_problems"] == []
    # Referrals: the demo officer sees their own (and only their own), with feedback only
    # where consent allows; other officers' referrals are a 404, the unit a 403.
    assert newer["referrals"] > newer["mine"] > 0
    assert newer["rows"] == newer["mine"] and newer["rows_only_mine"]
    assert "enrolled" in newer["feedback"] and "none" in newer["feedback"]
    assert newer["mine_page"] == [200, True]
    assert newer["other_detail"] == 404
    assert newer["police_inpatient"] == 403
    assert newer["care"] > 0 and newer["sessions"] > 50 and newer["attendance"] > newer["sessions"]
    assert newer["kits"] > 0
    # Take-home: a box per take-home client, requests waiting at each step, bottles ahead
    # and PIN texts to send for tomorrow.
    assert newer["boxes"] >= 10
    assert {"requested", "approved", "refused", "dispensed"} <= set(newer["requests"])
    assert newer["bottles_ahead"] > 0 and newer["bottles_without_box"] == 0
    assert newer["pins_tomorrow"] > 0


def test_the_demo_wipes_only_a_demo_region(demo_region, tmp_path):
    """A database with one centre that is not DEMO, DEMO2 or DEMO3 is refused and left as
    it was (on a copy of the demo's data directory)."""
    copy = tmp_path / "data"
    shutil.copytree(demo_region[0], copy)
    db = sqlite3.connect(copy / "pingan.sqlite3")
    clients = db.execute("SELECT COUNT(*) FROM registry_client").fetchone()[0]
    db.execute("UPDATE core_centre SET code = 'PA-001' WHERE code = 'DEMO3'")
    db.commit()
    db.close()
    refused = run([PINGAN, "demo", "--no-serve", "--clients", "5", "--no-progress"], env_for(copy))
    assert refused.returncode != 0
    assert "DEMO, DEMO2, DEMO3" in refused.stderr
    db = sqlite3.connect(copy / "pingan.sqlite3")
    assert db.execute("SELECT COUNT(*) FROM registry_client").fetchone()[0] == clients
    db.close()


def test_serve_refuses_an_unmigrated_database(tmp_path):
    done = run([PINGAN, "serve", "--port", "8799"], env_for(tmp_path))
    assert done.returncode == 1
    assert "pingan migrate" in done.stderr


@pytest.mark.django_db
def test_no_migration_is_missing_in_the_test_database():
    from pingan.ops.management.commands.serve import unapplied_migrations

    assert unapplied_migrations() == []


@pytest.mark.django_db
def test_the_importer_takes_the_synth_output_whole(tmp_path):
    from pingan.dosing.models import Dose
    from pingan.imports.loader import load_directory
    from pingan.labs.models import UrineResult
    from pingan.registry.models import Client, Identity

    spec = CentreSpec(clients=30, days=120, start=clock.today() - timedelta(days=121), seed=5)
    report = write_centre(spec, tmp_path, ("csv",), progress=False)
    loaded = load_directory(tmp_path, progress=False)
    assert Client.objects.count() == 30
    assert Dose.objects.count() == report.counts.rows["doses"] == loaded.created["doses"]
    assert UrineResult.objects.count() == report.counts.rows["urine"]
    assert Identity.objects.exclude(national_id="").count() > 0
