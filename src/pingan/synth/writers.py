"""Writing generated histories in the import format (docs/architecture.md, Contracts) as CSV and Parquet.

The import format has one enrolment per client. A client who left and came back is written
as one client enrolled on their first day, with only their final discharge in
discharges.csv; the break in between goes to `reenrolments.csv` (client_code,
discharged_on, reason, reenrolled_on), a file the importer ignores and `pingan demo` applies
after the import by splitting the episode. No dose falls inside such a break, so the import
files alone are consistent.

Both writers consume one client at a time: CSV lines go straight to buffered files, Parquet
columns are gathered into row groups of `batch_rows` and flushed, so 350,000 clients × 365
days (about 100 million dose rows) never sit in memory at once.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TextIO

from pingan.core import extras

from .generator import CentreSpec, ClientHistory

COLUMNS: dict[str, tuple[str, ...]] = {
    "clients": (
        "code",
        "alias",
        "sex",
        "birth_year",
        "enrolled_on",
        "name",
        "national_id",
        "phone",
        "address",
    ),
    "doses": ("client_code", "date", "mg", "kind"),
    "urine": ("client_code", "date", "analyte", "result"),
    "tests": ("client_code", "date", "test", "result"),
    "discharges": ("client_code", "date", "reason"),
    "reenrolments": ("client_code", "discharged_on", "reason", "reenrolled_on"),
}
IMPORT_TABLES = ("clients", "doses", "urine", "tests", "discharges")
_EPOCH = date(1970, 1, 1)


def _breaks(client: ClientHistory) -> list[tuple[int, str, int]]:
    """(discharged, reason, re-enrolled) for every return to treatment."""
    return [
        (before.discharged, before.reason, after.enrolled)
        for before, after in zip(client.episodes, client.episodes[1:], strict=False)
        if before.discharged is not None
    ]


class DayNames:
    """ISO date strings for day numbers, computed once (the hot loop writes millions)."""

    def __init__(self, start: date, days: int):
        self.start = start
        self._names = [(start + timedelta(days=i)).isoformat() for i in range(days + 1)]

    def __getitem__(self, day: int) -> str:
        if 0 <= day < len(self._names):
            return self._names[day]
        return (self.start + timedelta(days=day)).isoformat()


@dataclass
class Counts:
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COLUMNS, 0))

    def add(self, table: str, n: int) -> None:
        self.rows[table] += n

    @property
    def total(self) -> int:
        return sum(self.rows.values())


class CsvWriter:
    """The five CSV files, UTF-8, `\\n` line ends, header first, one client at a time."""

    def __init__(self, out: Path, config: CentreSpec, counts: Counts):
        self.day = DayNames(config.start, config.days)
        self.counts = counts
        self.files: dict[str, TextIO] = {}
        for table, columns in COLUMNS.items():
            handle = open(
                out / f"{table}.csv", "w", encoding="utf-8", newline="", buffering=1 << 20
            )  # noqa: SIM115
            handle.write(",".join(columns) + "\n")
            self.files[table] = handle
        self.clients = csv.writer(self.files["clients"], lineterminator="\n")

    def write(self, client: ClientHistory) -> None:
        day, code, files = self.day, client.code, self.files
        name, national_id, phone, address = client.identity or ("", "", "", "")
        first, last = client.episodes[0], client.episodes[-1]
        self.clients.writerow(
            (
                code,
                client.alias,
                client.sex,
                client.birth_year,
                day[first.enrolled],
                name,
                national_id,
                phone,
                address,
            )
        )
        files["doses"].write(
            "".join(f"{code},{day[d]},{mg},{kind}\n" for d, mg, kind in client.doses)
        )
        files["urine"].write("".join(f"{code},{day[d]},{a},{r}\n" for d, a, r in client.urine))
        files["tests"].write("".join(f"{code},{day[d]},{t},{r}\n" for d, t, r in client.tests))
        if last.discharged is not None:
            files["discharges"].write(f"{code},{day[last.discharged]},{last.reason}\n")
        breaks = _breaks(client)
        for left, reason, back in breaks:
            files["reenrolments"].write(f"{code},{day[left]},{reason},{day[back]}\n")
        add = self.counts.add
        add("clients", 1)
        add("doses", len(client.doses))
        add("urine", len(client.urine))
        add("tests", len(client.tests))
        add("discharges", last.discharged is not None)
        add("reenrolments", len(breaks))

    def close(self) -> None:
        for handle in self.files.values():
            handle.close()


class ParquetWriter:
    """The same five tables as Parquet files, written in row groups of `batch_rows`."""

    def __init__(
        self, out: Path, config: CentreSpec, counts: Counts | None, batch_rows: int = 1_000_000
    ):
        pa, pq = extras.pyarrow()  # the analytics extra; a clear message without it
        self.pa, self.pq = pa, pq
        self.out, self.batch_rows = out, batch_rows
        self.counts = counts  # None when the CSV writer already counts the same rows
        self.offset = (config.start - _EPOCH).days
        string, day, small = pa.string(), pa.date32(), pa.int16()
        types = {
            "code": string,
            "client_code": string,
            "alias": string,
            "sex": string,
            "birth_year": small,
            "enrolled_on": day,
            "date": day,
            "mg": small,
            "kind": string,
            "analyte": string,
            "test": string,
            "result": string,
            "reason": string,
            "discharged_on": day,
            "reenrolled_on": day,
            "name": string,
            "national_id": string,
            "phone": string,
            "address": string,
        }
        self.schemas = {
            table: pa.schema([(c, types[c]) for c in columns]) for table, columns in COLUMNS.items()
        }
        self.buffers = {t: {c: [] for c in cols} for t, cols in COLUMNS.items()}
        self.writers: dict[str, object] = {}

    def _extend(self, table: str, columns: dict[str, list]) -> None:
        buffer = self.buffers[table]
        for name, values in columns.items():
            buffer[name].extend(values)
        if len(buffer[COLUMNS[table][0]]) >= self.batch_rows:
            self._flush(table)

    def write(self, client: ClientHistory) -> None:
        code, offset, counts = client.code, self.offset, self.counts
        name, national_id, phone, address = client.identity or (None, None, None, None)
        first, last = client.episodes[0], client.episodes[-1]
        self._extend(
            "clients",
            {
                "code": [code],
                "alias": [client.alias],
                "sex": [client.sex],
                "birth_year": [client.birth_year],
                "enrolled_on": [first.enrolled + offset],
                "name": [name],
                "national_id": [national_id],
                "phone": [phone or None],
                "address": [address or None],
            },
        )
        for table, rows, names in (
            ("doses", client.doses, ("date", "mg", "kind")),
            ("urine", client.urine, ("date", "analyte", "result")),
            ("tests", client.tests, ("date", "test", "result")),
        ):
            if rows:
                days, second, third = zip(*rows, strict=True)
                self._extend(
                    table,
                    {
                        "client_code": [code] * len(rows),
                        names[0]: [d + offset for d in days],
                        names[1]: second,
                        names[2]: third,
                    },
                )
                if counts is not None:
                    counts.add(table, len(rows))
        if last.discharged is not None:
            self._extend(
                "discharges",
                {
                    "client_code": [code],
                    "date": [last.discharged + offset],
                    "reason": [last.reason],
                },
            )
        breaks = _breaks(client)
        if breaks:
            self._extend(
                "reenrolments",
                {
                    "client_code": [code] * len(breaks),
                    "discharged_on": [left + offset for left, _, _ in breaks],
                    "reason": [reason for _, reason, _ in breaks],
                    "reenrolled_on": [back + offset for _, _, back in breaks],
                },
            )
        if counts is not None:
            counts.add("clients", 1)
            counts.add("discharges", last.discharged is not None)
            counts.add("reenrolments", len(breaks))

    def _flush(self, table: str) -> None:
        pa, buffer, schema = self.pa, self.buffers[table], self.schemas[table]
        arrays = [pa.array(buffer[f.name], type=f.type) for f in schema]
        batch = pa.Table.from_arrays(arrays, schema=schema)
        if table not in self.writers:
            self.writers[table] = self.pq.ParquetWriter(
                self.out / f"{table}.parquet", schema, compression="zstd"
            )
        self.writers[table].write_table(batch)
        for values in buffer.values():
            values.clear()

    def close(self) -> None:
        for table in COLUMNS:
            if self.buffers[table][COLUMNS[table][0]] or table not in self.writers:
                self._flush(table)
            self.writers[table].close()


@dataclass
class SynthReport:
    counts: Counts
    seconds: float
    takehome_clients: int = 0
    clients: int = 0

    @property
    def rows_per_second(self) -> float:
        return self.counts.total / self.seconds if self.seconds > 0 else 0.0


def write_centre(
    config: CentreSpec, out: Path, formats: tuple[str, ...] = ("csv",), progress: bool = True
) -> SynthReport:
    """Generate the centre and write it to `out` in the given formats ("csv", "parquet")."""
    import time

    from tqdm import tqdm

    from .generator import generate

    if "parquet" in formats:
        extras.pyarrow()  # without the analytics extra, refuse before writing any file
    out.mkdir(parents=True, exist_ok=True)
    counts = Counts()
    writers: list[CsvWriter | ParquetWriter] = []
    if "csv" in formats:
        writers.append(CsvWriter(out, config, counts))
    if "parquet" in formats:
        writers.append(ParquetWriter(out, config, None if writers else counts))
    started = time.perf_counter()
    takehome = 0
    try:
        bar = tqdm(
            generate(config),
            total=config.clients,
            unit=" clients",
            disable=not progress,
            mininterval=0.5,
            desc="synth",
        )
        for client in bar:
            for writer in writers:
                writer.write(client)
            recent = config.days - 60
            for day, _mg, kind in reversed(client.doses):
                if day < recent:
                    break
                if kind == "takehome":
                    takehome += 1
                    break
    finally:
        for writer in writers:
            writer.close()
    elapsed = time.perf_counter() - started
    return SynthReport(counts, elapsed, takehome, config.clients)
