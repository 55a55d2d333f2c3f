"""A small centre whose indicators for March 2026 were worked out by hand (see the table in
test_indicator_definitions.py). Each client sits on an edge of a definition."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from pingan.core import clock
from pingan.dosing.models import Dose
from pingan.labs.models import InfectionTest, UrineResult, UrineSample
from pingan.registry.models import Client, Episode

MARCH = (2026, 3)


def d(text: str) -> date:
    return date.fromisoformat(text)


def days(first: str, last: str) -> list[date]:
    start, end = d(first), d(last)
    return [start + timedelta(n) for n in range((end - start).days + 1)]


def client(code: str, *episodes: tuple[str, str | None]) -> Client:
    c = Client.objects.create(code=code, alias=f"alias {code}", sex="M", birth_year=1980)
    for enrolled, discharged in episodes:
        Episode.objects.create(
            client=c, enrolled_on=d(enrolled), discharged_on=discharged and d(discharged)
        )
    return c


def doses(c: Client, dates: list[date], mg: int = 60, kind: str = "clinic") -> None:
    now = clock.now()
    Dose.objects.bulk_create(
        Dose(
            client=c,
            date=day,
            kind=kind,
            mg=mg,
            mg_in_clinic=0 if kind == "takehome" else mg,
            mg_taken_home=mg if kind == "takehome" else 0,
            strength_mg_per_ml=Decimal("1"),
            volume_ml=Decimal(mg),
            given_at=now,
        )
        for day in dates
    )


def urine(c: Client, on: str, **results: str) -> None:
    sample = UrineSample.objects.create(client=c, collected_on=d(on))
    for analyte, result in results.items():
        UrineResult.objects.create(sample=sample, analyte=analyte, result=result)


def test_(c: Client, on: str, test: str, result: str) -> None:
    InfectionTest.objects.create(client=c, tested_on=d(on), test=test, result=result)


def build_march() -> dict[str, Client]:
    a = client("A", ("2025-01-01", None))
    doses(a, days("2026-03-01", "2026-03-31"), 70)
    doses(a, [d("2026-02-28"), d("2026-04-01")], 200)  # just outside the month
    urine(a, "2026-03-10", opiates="negative", morphine="negative", methadone="positive")
    urine(a, "2026-03-20", methadone="positive")  # no opioid result: not counted
    test_(a, "2025-06-01", "hiv", "negative")
    test_(a, "2025-03-15", "hcv", "negative")  # 366 days before 31 March: outside
    test_(a, "2025-04-01", "hbv", "negative")  # first of the 365 days ending 31 March: inside
    test_(a, "2025-03-31", "syphilis", "negative")  # the day before them: outside

    b = client("B", ("2026-03-10", None))  # enrolled inside the month
    doses(b, days("2026-03-10", "2026-03-14") + days("2026-03-17", "2026-03-19"), 50)
    doses(b, days("2026-03-15", "2026-03-16"), 50, "takehome")
    urine(b, "2026-03-12", opiates="negative", morphine="positive")
    test_(b, "2026-03-12", "hiv", "positive")  # first positive: new
    test_(b, "2026-03-31", "syphilis", "positive")  # the month's last day: inside

    c = client("C", ("2025-06-01", "2026-03-21"))  # discharged inside the month
    doses(c, days("2026-03-01", "2026-03-05"), 60)
    doses(c, [d("2026-03-21")], 80)  # on the discharge day: active, not in treatment
    urine(c, "2026-03-03", opiates="positive")
    test_(c, "2025-04-01", "hcv", "positive")  # exactly 365 days ending 31 March: inside

    dd = client("D", ("2025-12-01", None))  # dosed on the last day only
    doses(dd, [d("2026-03-31")], 40)

    e = client("E", ("2025-11-01", "2026-02-10"))  # gone before the month
    test_(e, "2025-01-01", "hiv", "positive")
    test_(e, "2026-03-03", "hiv", "positive")  # not a first positive
    test_(e, "2026-03-03", "hbv", "positive")  # not active in March: not counted

    f = client("F", ("2025-12-15", None))  # retained at 3 months, not active in March
    doses(f, [d("2026-02-20")], 60)

    g = client("G", ("2025-12-31", "2026-03-31"))  # discharged on its 3-month day
    doses(g, [d("2026-03-30")], 100)
    return {"A": a, "B": b, "C": c, "D": dd, "E": e, "F": f, "G": g}
