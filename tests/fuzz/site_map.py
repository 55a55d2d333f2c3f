"""What the view fuzz knows about the site before it starts: every route of the URLconf, and,
from a crawl of the demo centre signed in as each role, real addresses for each route (with
the UUIDs of real records) and the forms each page offers (their fields and choices).

Generated requests start from these, so they reach the code behind a valid record and a
valid form, not only the 404 of an unknown UUID and the "this field is required" of an
empty form."""

from __future__ import annotations

import re
from collections import defaultdict, deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve

CONVERTER = re.compile(r"<(?:(?P<kind>[^>:]+):)?(?P<name>[^>]+)>")


def walk(patterns=None, prefix: str = "", namespace: str = ""):
    """(route, qualified name, view) of every URL pattern, e.g.
    ("clients/<uuid:external_id>/", "registry:detail", detail); the route is what
    `resolve(path).route` gives for a match."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            inner = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield prefix + str(entry.pattern), name or "", entry.callback


def route_of(path: str) -> str | None:
    try:
        return resolve(urlsplit(path).path).route
    except Resolver404:
        return None


@dataclass
class Field:
    name: str
    kind: str  # input type, "select", "textarea" or "button"
    values: list[str] = field(default_factory=list)  # the page's value and every choice


@dataclass
class Form:
    action: str  # path of the page the form posts to
    method: str
    fields: list[Field] = field(default_factory=list)


class _Page(HTMLParser):
    """Links and forms of one HTML page."""

    def __init__(self, here: str) -> None:
        super().__init__(convert_charrefs=True)
        self.here = here
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: Field | None = None
        self._textarea: Field | None = None

    def _url(self, raw: str | None) -> str:
        return urljoin(self.here, raw or self.here)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if a.get("hx-get"):
            self.links.append(self._url(a["hx-get"]))
        if a.get("hx-post"):  # htmx sends the enclosing form's fields, or none
            fields = list(self._form.fields) if self._form is not None else []
            self.forms.append(Form(self._url(a["hx-post"]), "post", fields))
        if tag == "option" and self._select is not None:
            self._select.values.append(a.get("value", ""))
        elif tag == "a" and a.get("href"):
            self.links.append(self._url(a["href"]))
        elif tag == "form":
            self._form = Form(self._url(a.get("action")), (a.get("method") or "get").lower())
            self.forms.append(self._form)
        elif self._form is None or not a.get("name"):
            return
        elif tag == "input":
            kind = (a.get("type") or "text").lower()
            self._form.fields.append(Field(a["name"], kind, [a.get("value", "")]))
        elif tag == "button":
            self._form.fields.append(Field(a["name"], "button", [a.get("value", "")]))
        elif tag == "select":
            self._select = Field(a["name"], "select")
            self._form.fields.append(self._select)
        elif tag == "textarea":
            self._textarea = Field(a["name"], "textarea", [""])
            self._form.fields.append(self._textarea)

    def handle_startendtag(self, tag, attrs) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.values[0] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


@dataclass
class SiteMap:
    # route -> addresses seen for it (path with query string)
    seeds: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    # route -> (role, form) for every form whose action is that route
    forms: dict[str, list[tuple[str, Form]]] = field(default_factory=lambda: defaultdict(list))
    # query parameter name -> values seen in links
    params: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    # routes that answered a GET with something other than 405
    gets: set[str] = field(default_factory=set)
    fetched: int = 0


# Addresses the crawl does not open (it still records them as seeds): the PDF takes a second
# to draw and says nothing the CSV does not.
SKIP_FETCH = {"indicators/report.pdf"}


def crawl(browsers: dict, starts: list[str], per_route: int = 2) -> SiteMap:
    """Breadth-first over internal links, per role, at most `per_route` addresses of each
    route per role. `browsers` maps a role to a signed-in Django test client."""
    site = SiteMap()
    for role, browser in browsers.items():
        taken: dict[str, int] = defaultdict(int)
        queue, queued = deque(starts), set(starts)
        while queue:
            path = queue.popleft()
            route = route_of(path)
            if route is None or taken[route] >= per_route:
                continue
            taken[route] += 1
            site.seeds[route].add(path)
            for name, value in parse_qsl(urlsplit(path).query):
                site.params[name].add(value)
            if route in SKIP_FETCH:
                continue
            response = browser.get(path)
            site.fetched += 1
            if response.status_code != 405:
                site.gets.add(route)
            if "text/html" not in response.get("Content-Type", ""):
                continue
            page = _Page(path)
            page.feed(response.content.decode("utf-8", "replace"))
            targets = list(page.links)
            for form in page.forms:
                form_route = route_of(form.action)
                if form_route is not None:
                    site.forms[form_route].append((role, form))
                    site.seeds[form_route].add(urlsplit(form.action).path)
                if form.method == "get":
                    targets.append(form.action)
            for target in targets:
                parts = urlsplit(target)
                if parts.netloc not in ("", "testserver") or parts.path.startswith("/static/"):
                    continue
                local = parts.path + (f"?{parts.query}" if parts.query else "")
                if local not in queued:
                    queued.add(local)
                    queue.append(local)
    return site
