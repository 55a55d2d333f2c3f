"""A crawl of the demo centre as each role, shared by the glossary test and the forbidden-link
test: from the role's home, follow every same-site link (GET only), one address per URL
pattern and query-parameter set, and keep what each page showed (its visible text) and
linked to.

`demo_site()` builds the demo region (DEMO with 12 clients, a year of history, the detox
unit, referrals, lockboxes, take-home requests; DEMO2 and DEMO3 smaller) at a fixed instant
in the current database; the tests call it inside a transaction they roll back. Each login
of `demo_logins()` is crawled. Pages are read in Simplified Chinese."""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

from django.test import Client as Browser
from django.urls import Resolver404, resolve

# A Wednesday afternoon in the centre's time zone, away from holidays and month ends.
DEMO_INSTANT = datetime(2026, 11, 18, 15, 0)
LANGUAGE = "zh-hans"
# Addresses not opened: the PDF takes a second to draw and has no links; the CSV and the
# FHIR files are data, not screens.
SKIP_SUFFIXES = (".pdf", ".csv", ".ndjson")


def demo_site(clients: int = 12) -> None:
    """The demo centre, built into the (empty) test database: `pingan demo` without the
    wipe, so the caller's transaction can roll it back."""
    from pingan.synth import demo

    real_fresh_database = demo.fresh_database
    demo.fresh_database = lambda: None
    try:
        demo.build_demo(clients=clients, progress=False, say=lambda _line: None)
    finally:
        demo.fresh_database = real_fresh_database


def demo_logins() -> tuple[str, ...]:
    """Every login of the demo region: one per role (DEMO's staff, the regional CDC and
    police officers), then the staff of each other centre (`nurse2`, `clinician3`, …)."""
    from pingan.accounts.roles import ROLES
    from pingan.synth.demo_region import CENTRE_ROLES, EXTRA_CENTRES, login_of

    return (*ROLES, *(login_of(r, plan) for plan in EXTRA_CENTRES for r in CENTRE_ROLES))


def browser_for(username: str) -> Browser:
    from django.contrib.auth.models import User

    browser = Browser()
    browser.force_login(User.objects.get(username=username))
    browser.cookies["django_language"] = LANGUAGE
    return browser


class _Page(HTMLParser):
    """Links and visible text of one HTML page: text outside tags, never inside <script>,
    <style> or an attribute, nor a <textarea>'s content (a form's value, data like an
    input's value attribute)."""

    HIDDEN = {"script", "style", "template", "noscript", "textarea"}

    def __init__(self, here: str) -> None:
        super().__init__(convert_charrefs=True)
        self.here = here
        self.links: list[str] = []
        self.chunks: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in self.HIDDEN:
            self._hidden += 1
        if tag == "a" and a.get("href") and not a["href"].startswith(("#", "mailto:", "tel:")):
            self.links.append(urljoin(self.here, a["href"]))
        if a.get("hx-get"):
            self.links.append(urljoin(self.here, a["hx-get"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.chunks.append(data.strip())


@dataclass
class Page:
    role: str
    path: str
    status: int
    text: str = ""
    links: list[str] = field(default_factory=list)
    found_on: str = ""


@dataclass
class Crawl:
    pages: list[Page] = field(default_factory=list)

    def by_role(self, role: str) -> list[Page]:
        return [p for p in self.pages if p.role == role]


def local(url: str) -> str | None:
    """The same-site path and query of a link, or None for another site or a static file."""
    parts = urlsplit(url)
    if parts.netloc not in ("", "testserver") or parts.scheme not in ("", "http", "https"):
        return None
    if parts.path.startswith("/static/") or parts.path.endswith(SKIP_SUFFIXES):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def pattern_of(path: str) -> str | None:
    """The URL pattern of an address plus the names of its query parameters: two addresses
    with the same key show the same screen for different records."""
    parts = urlsplit(path)
    try:
        route = resolve(parts.path).route
    except Resolver404:
        return None
    names = sorted({name for name, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return route + ("?" + "&".join(names) if names else "")


_NUMBERS = re.compile(r"\d+")


def crawl(browsers: dict[str, Browser], per_pattern: int = 1, limit: int = 400) -> Crawl:
    """Breadth-first from "/" for each role, at most `per_pattern` addresses of each URL
    pattern; the redirect from "/" to the role's home is followed."""
    result = Crawl()
    for role, browser in browsers.items():
        taken: dict[str, int] = {}
        queue: deque[tuple[str, str]] = deque([("/", "")])
        queued = {"/"}
        while queue and len(result.by_role(role)) < limit:
            path, found_on = queue.popleft()
            key = pattern_of(path)
            if key is None or taken.get(key, 0) >= per_pattern:
                continue
            taken[key] = taken.get(key, 0) + 1
            response = browser.get(path)
            page = Page(role, path, response.status_code, found_on=found_on)
            result.pages.append(page)
            if response.status_code in (301, 302, 303, 307, 308):
                target = local(urljoin(path, response["Location"]))
                if target and target not in queued:
                    queued.add(target)
                    queue.appendleft((target, path))
                continue
            if "text/html" not in response.get("Content-Type", ""):
                continue
            parser = _Page(path)
            parser.feed(response.content.decode("utf-8", "replace"))
            page.text = "\n".join(parser.chunks)
            page.links = [link for link in map(local, parser.links) if link]
            for link in page.links:
                if link not in queued:
                    queued.add(link)
                    queue.append((link, path))
    return result


def follow_every_link(browsers: dict[str, Browser], result: Crawl) -> list[Page]:
    """GET every distinct address any crawled page linked to that the crawl itself did not
    open (it opened one per URL pattern), as the role whose page showed it: every link's
    answer and visible text (their own links are not followed)."""
    extra: list[Page] = []
    for role, browser in browsers.items():
        opened = {p.path for p in result.by_role(role)}
        links = {(link, p.path) for p in result.by_role(role) for link in p.links}
        for link, found_on in sorted(links):
            if link in opened or pattern_of(link) is None:
                continue
            opened.add(link)
            response = browser.get(link)
            page = Page(role, link, response.status_code, found_on=found_on)
            if "text/html" in response.get("Content-Type", ""):
                parser = _Page(link)
                parser.feed(response.content.decode("utf-8", "replace"))
                page.text = "\n".join(parser.chunks)
            extra.append(page)
    return extra
