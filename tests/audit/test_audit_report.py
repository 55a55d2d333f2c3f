"""The monthly report carries the audit log's last signed checkpoint of the month, on paper."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from pypdf import PdfReader

from pingan.audit import anchor
from pingan.audit.log import record
from pingan.core import clock
from pingan.indicators.definitions import Period
from pingan.indicators.report import monthly_pdf

pytestmark = pytest.mark.django_db


def _text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_report_prints_the_months_last_checkpoint(settings, tmp_path):
    settings.AUDIT_CHECKPOINT_DIR = tmp_path
    with clock.frozen(datetime(2026, 3, 30, 18, 0)):
        record("test_event", target="thing:1")
        march = anchor.take()
    with clock.frozen(datetime(2026, 4, 2, 18, 0)):
        record("test_event", target="thing:2")
        anchor.take()
    text = _text(monthly_pdf(Period(2026, 3), "en"))
    assert "Audit log checkpoint" in text
    assert f"Signed checkpoint of 2026-03-30: the audit log up to entry {march.seq}" in text
    flat = "".join(text.split())
    assert march.head in flat and march.key in flat


def test_without_a_checkpoint_the_report_says_so(settings, tmp_path):
    settings.AUDIT_CHECKPOINT_DIR = tmp_path
    text = _text(monthly_pdf(Period(2026, 3), "zh-hans"))
    assert "审计日志检查点" in text
