"""A rejected import speaks the operator's language: the same bad file is reported in
Simplified Chinese under zh-hans and in English under en, row for row, with the same
file:line: column prefix (only the reasons are translated)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command, load_command_class
from django.test import override_settings
from django.utils import translation

from pingan.imports.loader import ImportRejected, load_directory
from pingan.registry.models import Client

pytestmark = pytest.mark.django_db

BAD = {
    "clients.csv": (
        "code,alias,sex,birth_year,enrolled_on\n"
        "C001,老王,M,1975,2025-01-02\n"
        "C002,Mei,F,1990,2025-13-01\n"  # line 3: bad date
    ),
    "doses.csv": (
        "client_code,date,mg,kind\n"
        "C001,2025-01-02,30,clinic\n"
        "C999,2025-01-03,30,clinic\n"  # line 3: unknown client code
    ),
}
CHINESE = [
    "clients.csv:3: enrolled_on: 日期 '2025-13-01' 无效（应为 YYYY-MM-DD 格式）",
    "doses.csv:3: client_code: 未知的服务对象编号 C999",
]
ENGLISH = [
    "clients.csv:3: enrolled_on: bad date '2025-13-01' (expected YYYY-MM-DD)",
    "doses.csv:3: client_code: unknown client code C999",
]
HAN = re.compile(r"[\u4e00-\u9fff]")


def write_dir(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def run_rejected(root: Path, capsys, *language: str) -> tuple[list[str], str]:
    """The bad-row lines on stderr and the closing message of a rejected run."""
    with pytest.raises(CommandError) as caught:
        call_command("import", str(root), "--no-progress", *language)
    assert caught.value.returncode == 1
    return capsys.readouterr().err.splitlines(), str(caught.value)


def test_the_same_bad_file_is_reported_in_chinese_and_in_english(tmp_path, capsys):
    root = write_dir(tmp_path / "in", BAD)

    lines, summary = run_rejected(root, capsys, "--language", "zh-hans")
    assert lines == CHINESE
    assert summary == "有 2 行数据有误；未导入任何内容。"

    lines, summary = run_rejected(root, capsys, "--language", "en")
    assert lines == ENGLISH
    assert summary == "2 bad rows; nothing was imported."
    assert not Client.objects.exists()


def test_without_the_option_the_centres_language_is_used(tmp_path, capsys):
    root = write_dir(tmp_path / "in", BAD)
    assert run_rejected(root, capsys)[0] == CHINESE  # LANGUAGE_CODE is zh-hans
    with override_settings(LANGUAGE_CODE="en"):
        assert run_rejected(root, capsys)[0] == ENGLISH


def test_the_language_applies_to_the_run_only(tmp_path, capsys):
    root = write_dir(tmp_path / "in", BAD)
    with translation.override("zh-hans"):
        run_rejected(root, capsys, "--language", "en")
        assert translation.get_language() == "zh-hans"


def test_a_good_import_reports_its_counts_in_the_chosen_language(tmp_path, capsys):
    good = {
        "clients.csv": BAD["clients.csv"].splitlines(keepends=True)[0]
        + "C001,A,M,1975,2025-01-02\n"
    }
    call_command("import", str(write_dir(tmp_path / "a", good)), "--no-progress")
    out = capsys.readouterr().out
    assert "clients.csv: 1 行" in out and "已导入：服务对象 1，" in out

    good = {"clients.csv": good["clients.csv"].replace("C001", "C002")}
    call_command(
        "import", str(write_dir(tmp_path / "b", good)), "--no-progress", "--language", "en"
    )
    out = capsys.readouterr().out
    assert "clients.csv: 1 row\n" in out and "Imported: clients 1, identities 0," in out


def test_every_reason_of_a_very_bad_directory_is_in_chinese(tmp_path):
    """Many kinds of problem at once (cell, row, cross-row and database checks): under
    zh-hans none of their reasons is left in English."""
    load_directory(
        write_dir(
            tmp_path / "old", {"clients.csv": BAD["clients.csv"].replace("2025-13", "2025-03")}
        ),
        progress=False,
    )
    files = {
        "clients.csv": (
            "code,alias,sex,birth_year,enrolled_on\n"
            "C010,A,Q,1975,2025-01-02\n"  # sex not one of
            "C011,B,F,abc,2999-01-01\n"  # not a whole number, future date
            f"C012,{'x' * 81},F,1975,1899-12-31\n"  # too long, before 1900
            "C015,,F,1975,2025-01-02\n"  # empty
            "C013,D,F,1975,2025-01-02\n"
            "C013,D2,F,1975,2025-01-02\n"  # also on line
            "C001,E,M,1975,2025-01-02\n"  # already exists
            "C014,F,M,1975\n"  # field count
        ),
        "doses.csv": (
            "client_code,date,mg,kind\n"
            "C001,2025-01-02,30,clinic\n"
            "C001,2025-01-02,30,clinic\n"  # second dose
            "C001,2024-01-02,900,bottle\n"  # out of range, not one of
            "C999,2025-01-03,30,clinic\n"  # unknown client code
            "C001,2024-12-01,30,clinic\n"  # outside any episode
        ),
        "urine.csv": (
            "client_code,date,analyte,result\n"
            "C001,2025-01-10,opiates,negative\n"
            "C001,2025-01-10,opiates,negative\n"  # also on line
        ),
        "tests.csv": "client_code,date,test,extra\n",  # column missing, unknown column
        "discharges.csv": (
            "client_code,date,reason\n"
            "C002,2024-12-31,completed\n"  # before enrolment
            "C002,2025-12-31,completed\n"  # also discharged
        ),
    }
    with translation.override("zh-hans"), pytest.raises(ImportRejected) as caught:
        load_directory(write_dir(tmp_path / "in", files), progress=False)
    errors = caught.value.errors
    assert len(errors) == 19
    english = [str(e) for e in errors if not HAN.search(e.reason)]
    assert not english, english
    assert HAN.search(str(caught.value))


def test_help_is_in_the_chosen_language(capsys):
    command = load_command_class("pingan.ops", "import")
    with pytest.raises(SystemExit):
        command.run_from_argv(["pingan", "import", "--language", "en", "--help"])
    assert "--language {zh-hans,en}" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        command.run_from_argv(["pingan", "import", "--help", "--language=en"])
    out = capsys.readouterr().out
    assert "language of the report" in out and "(default: zh-hans" in out
    with pytest.raises(SystemExit):
        command.run_from_argv(["pingan", "import", "--help"])
    out = capsys.readouterr().out
    assert "报告所用的语言" in out and "存放 CSV 文件的文件夹" in out
