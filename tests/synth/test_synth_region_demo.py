"""`pingan demo` builds a region: DEMO and two smaller centres, guest slips both ways with
doses given at the host, a refused second enrolment whose notice DEMO's clinicians see,
staff of each centre who sign in and see their own centre's queue, and regional CDC and
police logins. Read from the session's demo (tests/synth/conftest.py)."""

from __future__ import annotations

import re

from demo_process import DEMO_CLIENTS, script

from pingan.synth.demo_region import EXTRA_SHARE

LOGINS = (
    "nurse clinician manager cdc police nurse2 clinician2 manager2 nurse3 clinician3 manager3"
).split()

REGION = """
import json, django
django.setup()
from collections import Counter
from pingan.core import clock
from pingan.core.models import Centre
from pingan.dosing.models import Dose, GuestSlip
from pingan.region.models import Membership
from pingan.registry.models import Client, EnrolmentAttempt
today = clock.today()
out = {}
codes = dict(Centre.objects.values_list("pk", "code"))
out["centres"] = sorted(codes.values())
out["clients"] = dict(Counter(codes[c] for c in Client.objects.values_list("centre_id", flat=True)))
out["takehome"] = dict(Counter(
    codes[c] for c in Dose.objects.filter(kind="takehome").values_list("client__centre_id", flat=True)
))
out["slips"] = [
    {
        "home": s.client.centre.code,
        "host": s.host.code,
        "covers_today": s.valid_from < today <= s.valid_to,
        "past_doses_at_host": Dose.objects.filter(
            client=s.client, centre=s.host, kind="guest", date__gte=s.valid_from, date__lt=today
        ).count(),
        "past_days": (today - s.valid_from).days,
    }
    for s in GuestSlip.objects.select_related("client__centre", "host")
]
out["notices"] = [
    [a.client.centre.code, a.attempted_at.code, a.kind]
    for a in EnrolmentAttempt.objects.select_related("client__centre", "attempted_at")
]
out["members"] = sorted(Membership.objects.values_list("user__username", "centre__code"))
print(json.dumps(out))
"""

SCREENS = """
import json, os, re, django
django.setup()
from django.test import Client as Browser
from django.urls import reverse
from pingan.core import clock
from pingan.dosing.models import GuestSlip
from pingan.registry.models import Client, EnrolmentAttempt
logins = %(logins)r
today = clock.today()
out = {"signed": {}}
browsers = {}
for username in logins:
    browser = Browser()
    answer = browser.post("/accounts/login/", {"username": username, "password": os.environ["PW"]})
    landing = browser.get("/", follow=True)
    out["signed"][username] = [answer.status_code, landing.status_code, landing.request["PATH_INFO"]]
    browsers[username] = browser
# The DEMO2 nurse's queue: DEMO2's clients and the guests DEMO2 expects today, no one else.
page = browsers["nurse2"].get("/dosing/queue/").content.decode()
shown = set(re.findall(r"\\b(?:YX|JC|TH)-\\d{6}\\b", page))
centre_of = dict(Client.objects.values_list("code", "centre__code"))
guests = set(
    GuestSlip.objects.filter(
        host__code="DEMO2", valid_from__lte=today, valid_to__gte=today, cancelled_at__isnull=True
    ).values_list("client__code", flat=True)
)
out["queue_strangers"] = sorted(c for c in shown if centre_of.get(c) != "DEMO2" and c not in guests)
out["queue_guests"] = sorted(shown & guests)
out["queue_own"] = len([c for c in shown if centre_of.get(c) == "DEMO2"])
# DEMO's clinician sees the notice of the refused enrolment on the client's page.
notice = EnrolmentAttempt.objects.select_related("client").first()
client_page = browsers["clinician"].get(reverse("registry:detail", args=[notice.client.external_id]))
out["notice_page"] = [client_page.status_code, "DEMO3" in client_page.content.decode()
                      or notice.attempted_at.name in client_page.content.decode()]
# The CDC officer belongs to every centre, the police officer to none.
out["cdc_switch"] = "DEMO3" in browsers["cdc"].get("/", follow=True).content.decode()
print(json.dumps(out))
"""


def test_the_demo_is_a_region_of_three_centres(demo_region):
    data_dir, stdout = demo_region
    region = script(REGION, data_dir)
    assert region["centres"] == ["DEMO", "DEMO2", "DEMO3"]
    extra = round(DEMO_CLIENTS * EXTRA_SHARE)
    clients = region["clients"]
    assert clients["DEMO"] == DEMO_CLIENTS
    # A transfer, once the registry has one, moves a client of DEMO3 to DEMO2.
    assert clients["DEMO2"] + clients["DEMO3"] == 2 * extra
    assert clients["DEMO2"] >= extra and clients["DEMO3"] >= extra - 1
    assert all(region["takehome"].get(code, 0) > 0 for code in region["centres"])
    for code in region["centres"]:
        assert re.search(rf"^  {code} +\S", stdout, re.MULTILINE), code


def test_guest_slips_run_both_ways_with_doses_given_at_the_host(demo_region):
    slips = script(REGION, demo_region[0])["slips"]
    ways = {(s["home"], s["host"]) for s in slips}
    assert {("DEMO", "DEMO2"), ("DEMO2", "DEMO")} <= ways
    for slip in slips:
        assert slip["covers_today"]
        assert slip["past_doses_at_host"] == slip["past_days"] > 0


def test_a_second_enrolment_at_demo3_leaves_demo_its_notice(demo_region):
    notices = script(REGION, demo_region[0])["notices"]
    assert notices == [["DEMO", "DEMO3", "enrol"]]


def test_every_login_signs_in_and_sees_its_centre(demo_region):
    data_dir, stdout = demo_region
    for username in LOGINS:
        assert re.search(rf"^  {username} +\S", stdout, re.MULTILINE), username
    members = {tuple(m) for m in script(REGION, data_dir)["members"]}
    assert {(r, "DEMO") for r in ("nurse", "clinician", "manager")} <= members
    assert {("cdc", c) for c in ("DEMO", "DEMO2", "DEMO3")} <= members
    assert not any(user == "police" for user, _centre in members)
    for n in ("2", "3"):
        assert {(r + n, "DEMO" + n) for r in ("nurse", "clinician", "manager")} <= members

    screens = script(SCREENS % {"logins": LOGINS}, data_dir)
    for username, (posted, landed, path) in screens["signed"].items():
        assert posted == 302 and landed == 200 and path != "/accounts/login/", username
    assert screens["signed"]["nurse2"][2] == "/dosing/queue/"
    assert screens["queue_strangers"] == []
    assert len(screens["queue_guests"]) == 1 and screens["queue_own"] > 5
    assert screens["notice_page"] == [200, True]
    assert screens["cdc_switch"]
