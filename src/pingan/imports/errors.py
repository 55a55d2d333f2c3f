"""What a rejected import reports: every bad row, by file, line and column."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import ngettext


@dataclass(frozen=True, order=True)
class RowError:
    file: str
    line: int  # 1 is the header line; 0 when the problem is the file as a whole
    column: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return (
            f"{where}: {self.column}: {self.reason}" if self.column else f"{where}: {self.reason}"
        )


class ImportRejected(Exception):
    """Nothing was written because at least one row is bad; `errors` lists them all.

    The reasons and this summary are in the language active when the import ran (the
    command activates the operator's), so the whole report reads in one language."""

    def __init__(self, errors: list[RowError]):
        self.errors = sorted(errors)
        super().__init__(summary(len(self.errors)))


def summary(count: int) -> str:
    """The closing line of a rejected import: how many rows are bad, and that nothing was
    written (the operator must know the database is untouched)."""
    return ngettext(
        "%(count)d bad row; nothing was imported.",
        "%(count)d bad rows; nothing was imported.",
        count,
    ) % {"count": count}
