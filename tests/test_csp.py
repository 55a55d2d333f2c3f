"""The Content-Security-Policy header, and templates that need nothing it forbids.

The policy allows scripts and styles only from our own files. A template with an inline
<script>, an onclick="…" or a style="…" would be silently broken in the browser (the browser
refuses it and the page half-works), so the templates are scanned here; the browser journey
in tests/browser/test_browser_csp.py checks the screens themselves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import pingan

PACKAGE = Path(pingan.__file__).resolve().parent
# Rendered to PDF by WeasyPrint on the server (the monthly report and what it includes),
# never sent to a browser.
NOT_SERVED = {
    "indicators/templates/indicators/report.html",
    "audit/templates/audit/_report_checkpoint.html",
}
TEMPLATES = sorted(
    p
    for p in PACKAGE.glob("**/templates/**/*.html")
    if str(p.relative_to(PACKAGE)) not in NOT_SERVED
)

FORBIDDEN = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I),
    "event handler attribute": re.compile(r"<[^>]*\son[a-z]+\s*=", re.I),
    "style attribute": re.compile(r"<[^>]*\sstyle\s*=", re.I),
    "style element": re.compile(r"<style\b", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


def _without_comments(text: str) -> str:
    return re.sub(r"\{#.*?#\}|\{% comment %\}.*?\{% endcomment %\}", "", text, flags=re.S)


def test_the_scan_sees_the_templates():
    names = {str(p.relative_to(PACKAGE)) for p in TEMPLATES}
    assert "templates/base.html" in names and "inpatient/templates/inpatient/card.html" in names


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_template_has_nothing_the_policy_refuses(template: Path):
    text = _without_comments(template.read_text(encoding="utf-8"))
    found = {name for name, pattern in FORBIDDEN.items() if pattern.search(text)}
    assert not found, f"{template.relative_to(PACKAGE)}: {sorted(found)}"


@pytest.mark.django_db
def test_every_answer_carries_the_policy(client):
    page = client.get("/accounts/login/")
    policy = {
        d.split()[0]: d.split()[1:] for d in page["Content-Security-Policy"].split(";") if d.strip()
    }
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in page["Content-Security-Policy"]
    assert "'unsafe-eval'" not in page["Content-Security-Policy"]
    api = client.get("/api/lockbox/openapi.json")
    assert "Content-Security-Policy" in api


def test_htmx_is_configured_not_to_insert_styles_or_evaluate_code():
    base = (PACKAGE / "templates" / "base.html").read_text(encoding="utf-8")
    assert '"includeIndicatorStyles": false' in base
    assert '"allowEval": false' in base
