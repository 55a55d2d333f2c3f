"""The apps import downward only (docs/architecture.md, "Layers").

Every `import pingan.<app>` / `from pingan.<app> import …` in an app's code, including
imports inside functions, is an edge of the graph; an app may import only from apps in the
layers above its own. A new upward import fails here, naming the file, before it grows into
a cycle that makes the next change to one app a change to several."""

from __future__ import annotations

import ast
from pathlib import Path

import pingan

# Top to bottom; each app imports only from the layers before its own.
LAYERS: list[set[str]] = [
    {"core"},
    {"audit"},
    {"accounts"},
    {"region"},
    {"registry"},
    {"dosing", "labs", "lockbox", "inpatient"},
    {"takehome", "referrals", "messaging"},
    {"services", "recalls"},
    {"indicators"},
    {"imports", "exchange"},
    {"synth", "ops"},
]
SRC = Path(pingan.__file__).parent


def _layer_of(app: str) -> int:
    for index, apps in enumerate(LAYERS):
        if app in apps:
            return index
    raise AssertionError(f"the app {app!r} is in no layer: add it to LAYERS and the docs")


def _imported_apps(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "pingan" and len(parts) > 1 and (SRC / parts[1]).is_dir():
                found.add(parts[1])
    return found


def app_edges() -> list[tuple[str, str, str]]:
    """(importing app, imported app, file) for every import between two apps."""
    edges = []
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC).parts
        if len(parts) < 2 or "migrations" in parts:
            continue  # top-level modules (urls, cli, settings) and frozen migrations
        app = parts[0]
        for other in _imported_apps(path) - {app}:
            edges.append((app, other, str(path.relative_to(SRC))))
    return edges


def upward_imports(edges) -> list[str]:
    return [
        f"{path}: {app} (layer {_layer_of(app)}) imports {other} (layer {_layer_of(other)})"
        for app, other, path in edges
        if _layer_of(other) >= _layer_of(app)
    ]


def test_every_app_has_a_layer():
    apps = {p.name for p in SRC.iterdir() if (p / "apps.py").exists()}
    for app in apps:
        _layer_of(app)


def test_apps_import_downward_only():
    assert upward_imports(app_edges()) == []


def test_the_check_would_catch_a_cycle():
    """The check itself: an edge from a bottom app to a top app is reported."""
    assert upward_imports([("core", "indicators", "core/x.py")]) == [
        "core/x.py: core (layer 0) imports indicators (layer 8)"
    ]
    assert upward_imports([("takehome", "messaging", "takehome/x.py")])  # same layer
