"""Simplified Chinese is complete and shipped as compiled (STYLE.md: `zh_Hans` is complete).

Three ways a translation goes wrong without anyone noticing on an English screen:
1. an entry in a .po file is empty or still marked fuzzy (Django shows the English);
2. the committed .mo was compiled from an older .po (Django reads only the .mo);
3. a new string in the code never reached any .po (makemessages was not run).
Each has its test here; docs/translations.md says how to fix what they report.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

import pingan

PACKAGE = Path(pingan.__file__).resolve().parent
LOCALE = "zh_Hans"
PO_FILES = sorted(PACKAGE.glob(f"**/locale/{LOCALE}/LC_MESSAGES/*.po"))


def _name(path: Path) -> str:
    return str(path.relative_to(PACKAGE.parent))


def _key(entry: polib.POEntry | polib.MOEntry) -> tuple[str, str]:
    return (entry.msgctxt or "", entry.msgid)


def _translation(entry: polib.POEntry | polib.MOEntry) -> object:
    if entry.msgid_plural:
        return (
            entry.msgid_plural,
            tuple(entry.msgstr_plural[k] for k in sorted(entry.msgstr_plural)),
        )
    return entry.msgstr


def test_there_are_chinese_translations() -> None:
    assert PO_FILES, f"no {LOCALE} .po file under {PACKAGE}"


@pytest.mark.parametrize("po_path", PO_FILES, ids=_name)
def test_every_entry_is_translated_and_none_is_fuzzy(po_path: Path) -> None:
    po = polib.pofile(str(po_path))
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not untranslated, f"{_name(po_path)}: no Chinese for {untranslated}"
    assert not fuzzy, f"{_name(po_path)}: fuzzy (unchecked) entries {fuzzy}"


@pytest.mark.parametrize("po_path", PO_FILES, ids=_name)
def test_compiled_mo_matches_its_po(po_path: Path) -> None:
    """Compare what Django will read (.mo) with what translators wrote (.po), entry by
    entry, so a .mo compiled before the last .po edit fails."""
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists(), f"{_name(mo_path)} is missing: run compilemessages"
    po = polib.pofile(str(po_path))
    wanted = {_key(e): _translation(e) for e in po.translated_entries() if e.msgid}
    shipped = {_key(e): _translation(e) for e in polib.mofile(str(mo_path)) if e.msgid}
    missing = sorted(k[1] for k in wanted.keys() - shipped.keys())
    extra = sorted(k[1] for k in shipped.keys() - wanted.keys())
    changed = sorted(k[1] for k in wanted.keys() & shipped.keys() if wanted[k] != shipped[k])
    assert not (missing or extra or changed), (
        f"{_name(mo_path)} is stale (run compilemessages): not compiled yet {missing}, "
        f"no longer in the .po {extra}, translated differently {changed}"
    )


def _msgids(po_path: Path) -> dict[tuple[str, str], str]:
    """The live entries of a .po, each with where the code uses it (for the failure)."""
    if not po_path.exists():
        return {}
    return {
        _key(e): ", ".join(f"{f}:{line}" for f, line in e.occurrences[:2])
        for e in polib.pofile(str(po_path))
        if e.msgid and not e.obsolete
    }


def test_makemessages_would_find_no_new_string(tmp_path: Path) -> None:
    """Run makemessages on a copy of the source tree and compare: every translatable string
    in the code and templates must already be in the committed .po of its app (or the
    project's, for files outside any app with a locale folder)."""
    copy = tmp_path / "pingan"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "static"))
    # The installed settings point LOCALE_PATHS at the real tree; point them at the copy.
    (tmp_path / "makemessages_settings.py").write_text(
        "from pingan.settings.base import *  # noqa: F403\n"
        f"LOCALE_PATHS = [{str(copy / 'locale')!r}]\n"
    )
    (copy / "locale").mkdir(exist_ok=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "makemessages_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
        "PINGAN_DATA_DIR": str(tmp_path / "data"),
    }
    # One run from the package root fills every app's locale folder and the project's.
    result = subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", LOCALE, "--no-obsolete"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr

    problems = []
    for regenerated in sorted(copy.glob(f"**/locale/{LOCALE}/LC_MESSAGES/django.po")):
        committed = PACKAGE / regenerated.relative_to(copy)
        found, known = _msgids(regenerated), _msgids(committed)
        new = sorted(key for key in found if key not in known)
        if new:
            shown = "; ".join(f"{msgid!r} ({found[(ctx, msgid)]})" for ctx, msgid in new[:8])
            problems.append(f"{_name(committed)}: {len(new)} new, e.g. {shown}")
    assert not problems, (
        "strings in no committed .po (run makemessages, translate, compilemessages; an app "
        "without its own locale/ folder sends its strings to src/pingan/locale):\n"
        + "\n".join(problems)
    )
