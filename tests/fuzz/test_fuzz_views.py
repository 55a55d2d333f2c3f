"""Every URL of the URLconf fuzzed with generated query strings and form bodies, signed in
as each role and as nobody: no answer may be a server error.

The site is the demo centre (a year of history for 12 clients, the detox unit, referrals,
lockboxes, take-home requests), built once for the module inside a transaction that is
rolled back at the end. A crawl of it as each role gives real addresses and real forms
(`site_map.py`); each generated request starts from one of them and then bends it: a
junk value in a field, a field dropped or added, a month of 9999-12, a NUL byte, another
record's UUID, another role. Each request runs in its own savepoint, so one request's
writes never change what the next one sees and a failure replays exactly.

Routes are read from the resolver, so a new view is fuzzed without touching this file."""

from __future__ import annotations

import copy
import os
import uuid
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client as Browser
from fuzz_budget import EXAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from site_map import CONVERTER, crawl, walk

from pingan.accounts.roles import ROLES, perm

ROUTES = sorted((route, name) for route, name, _view in walk())
VIEWS = {name: view for _route, name, view in walk()}
# PINGAN_FUZZ_LOG=FILE: one line per request (route name, role, method, status), to see
# what the run reached.
LOG = os.environ.get("PINGAN_FUZZ_LOG", "")
ANONYMOUS = "anonymous"
# Fewer examples where one request costs most: a second of WeasyPrint per PDF (the CSV
# export shares its month handling), the indicator set over twelve months, the audit list
# over every entry the demo wrote.
EXAMPLES_FOR = {
    "indicators:report_pdf": 1,
    "indicators:dashboard": max(1, EXAMPLES // 2),
    "indicators:evaluation": max(1, EXAMPLES // 2),
    "indicators:export_csv": max(1, EXAMPLES // 2),
    "audit:list": max(1, EXAMPLES // 2),
}

# Values that once reached a view unchecked somewhere, or that commonly do.
NASTY = [
    "",
    " ",
    "0",
    "-1",
    "--1",
    "²",
    "١٢",
    "1e400",
    "NaN",
    "-0",
    "9" * 30,
    "9" * 400,
    "9999-12",
    "0001-01",
    "0000-00",
    "2026-13",
    "2026-02-30",
    "9999-12-31",
    "0001-01-01",
    "2026-12-02T25:61",
    "\x00",
    "a\x00b",
    "%00",
    "null",
    "[]",
    "{}",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "../../etc/passwd",
    "💊" * 20,
    "\u202etxt.exe",
    "x" * 5000,
    str(uuid.UUID(int=0)),
    "not-a-uuid",
]
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
JUNK = st.one_of(
    st.sampled_from(NASTY),
    TEXT,
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.dates().map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
)
# Query parameters the views read, plus whatever links carried (site.params).
GET_NAMES = [
    "period",
    "from",
    "to",
    "month",
    "lang",
    "q",
    "status",
    "page",
    "show",
    "bed",
    "on",
    "date",
    "retired",
    "profile",
    "next",
    "at",
]


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    """The demo centre, a signed-in browser per role, and the crawl of it."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield _build()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def _build() -> dict:
    from pingan.synth import demo

    real_fresh_database = demo.fresh_database
    demo.fresh_database = lambda: None  # the test database is empty already; never wipe it
    try:
        demo.build_demo(clients=12, progress=False, say=lambda _line: None)
    finally:
        demo.fresh_database = real_fresh_database
    browsers = {ANONYMOUS: Browser()}
    for role in ROLES:
        browser = Browser()
        browser.force_login(User.objects.get(username=role))
        browsers[role] = browser
    starts = ["/"] + ["/" + route for route, _name in ROUTES if not CONVERTER.search(route)]
    site_map = crawl({r: b for r, b in browsers.items() if r != ANONYMOUS}, starts, per_route=1)
    cookies = {role: copy.deepcopy(b.cookies) for role, b in browsers.items()}
    users = {role: User.objects.get(username=role) for role in ROLES}
    allowed = {name: [r for r in ROLES if _may(users[r], view)] for name, view in VIEWS.items()}
    return {"browsers": browsers, "cookies": cookies, "map": site_map, "allowed": allowed}


def _may(user, view) -> bool:
    """Whether the view's @requires lets the user in (a view without it lets anyone in)."""
    codenames = getattr(view, "required_permissions", ())
    checks = [user.has_perm(perm(c)) for c in codenames]
    return not checks or (
        any(checks) if getattr(view, "permissions_any_of", False) else all(checks)
    )


def _path(route: str, site_map, data) -> str:
    """A seen address of the route, or the route with its converters filled with junk."""
    seen = sorted(site_map.seeds.get(route, ()))
    if seen and data.draw(st.booleans(), label="seen address"):
        return urlsplit(data.draw(st.sampled_from(seen), label="address")).path

    def fill(match) -> str:
        kind = match.group("kind") or "str"
        if kind == "uuid":
            value = str(data.draw(st.uuids(), label="uuid"))
        elif kind == "int":
            value = str(data.draw(st.integers(min_value=0, max_value=10**12), label="int"))
        elif kind == "slug":
            value = data.draw(st.from_regex(r"[-a-zA-Z0-9_]{1,40}", fullmatch=True), label="slug")
        else:
            value = data.draw(TEXT.filter(bool), label="str")
        return quote(value, safe="")

    return "/" + CONVERTER.sub(fill, route)


def _value(data, known: list[str], label: str) -> str:
    if known and data.draw(st.booleans(), label=f"{label} known"):
        return data.draw(st.sampled_from(known), label=label)
    return data.draw(JUNK, label=label)


def _query(route: str, site_map, data) -> dict:
    seen = sorted(site_map.seeds.get(route, ()))
    names = sorted(set(GET_NAMES) | set(site_map.params))
    query = {}
    if seen and data.draw(st.booleans(), label="seen query"):
        query.update(parse_qsl(urlsplit(data.draw(st.sampled_from(seen))).query))
    for name in data.draw(st.lists(st.sampled_from(names), max_size=3, unique=True)):
        query[name] = _value(data, sorted(site_map.params.get(name, ())), name)
    if data.draw(st.booleans(), label="unknown parameter"):
        query[data.draw(TEXT.filter(bool), label="name")] = data.draw(JUNK)
    return query


def _body(route: str, role: str, site_map, data) -> dict:
    """A form of the route (preferably one this role was shown), bent."""
    forms = site_map.forms.get(route, [])
    mine = [form for who, form in forms if who == role] or [form for _who, form in forms]
    body: dict = {}
    if mine:
        form = data.draw(st.sampled_from(mine), label="form")
        for f in form.fields:
            if data.draw(st.integers(0, 9), label=f"keep {f.name}") == 0:
                continue  # a field left out
            if f.kind == "file":
                content = data.draw(st.binary(max_size=2048), label=f.name)
                if data.draw(st.booleans(), label="png header"):
                    content = b"\x89PNG\r\n\x1a\n" + content
                body[f.name] = SimpleUploadedFile("upload.png", content, "image/png")
            else:
                body[f.name] = _value(data, [v for v in f.values if v is not None], f.name)
    for _ in range(data.draw(st.integers(0, 2), label="extra fields")):
        body[data.draw(TEXT.filter(bool), label="extra name")] = data.draw(JUNK)
    return body


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "name"), ROUTES, ids=[r for r, _n in ROUTES])
def test_no_server_error(site, route, name):
    browsers, cookies, site_map = site["browsers"], site["cookies"], site["map"]
    # Mostly the roles the view admits and the methods it serves, where the code is; now and
    # then anyone and anything, where the refusals are.
    everyone = [ANONYMOUS, *ROLES]
    admitted = site["allowed"].get(name) or everyone
    methods = [
        m for m, ok in (("GET", route in site_map.gets), ("POST", route in site_map.forms)) if ok
    ]

    @settings(
        max_examples=EXAMPLES_FOR.get(name, EXAMPLES),
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def one_request(data):
        usual = data.draw(st.integers(0, 4), label="usual") > 0
        role = data.draw(st.sampled_from(admitted if usual else everyone), label="signed in as")
        method = data.draw(st.sampled_from(methods if usual and methods else ["GET", "POST"]))
        post = method == "POST"
        browser = browsers[role]
        browser.cookies = copy.deepcopy(cookies[role])
        path = _path(route, site_map, data)
        with transaction.atomic():
            if post:
                response = browser.post(path, _body(route, role, site_map, data))
            else:
                response = browser.get(path, _query(route, site_map, data))
            transaction.set_rollback(True)
        if LOG:
            with open(LOG, "a", encoding="utf-8") as log:
                log.write(f"{name}\t{role}\t{'POST' if post else 'GET'}\t{response.status_code}\n")
        assert response.status_code < 500, (role, path, response.status_code)

    one_request()


@pytest.mark.django_db
def test_the_crawl_reaches_most_routes(site):
    """The fuzz starts from real records: most routes were seen with a real address."""
    seeds = site["map"].seeds
    unseen = [route for route, _name in ROUTES if route not in seeds]
    assert len(unseen) <= len(ROUTES) // 5, unseen
