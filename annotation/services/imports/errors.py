"""Errors and warnings of an import, each located by line (and record index for arrays)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Stop reading after this many errors: enough to fix a file in one round, cheap to show.
MAX_ERRORS = 20
#: Warnings kept in detail; beyond this only a count is kept.
MAX_WARNINGS = 200


@dataclass(frozen=True, slots=True)
class ImportErrorItem:
    """One problem: where (line, and record index in a JSON array), which field, what."""

    line: int | None
    field: str
    message: str
    record: int | None = None

    def __str__(self) -> str:
        if self.record is not None:
            where = f"record {self.record} (line {self.line})"
        elif self.line is not None:
            where = f"line {self.line}"
        else:
            where = "file"
        if self.field:
            return f"{where}: {self.field}: {self.message}"
        return f"{where}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"line": self.line, "field": self.field, "message": self.message}
        if self.record is not None:
            data["record"] = self.record
        return data


class ImportFailed(Exception):
    """The import wrote nothing; ``errors`` say why. ``import_run`` is the failed run's row."""

    def __init__(self, errors: list[ImportErrorItem], import_run=None):
        self.errors = errors
        self.import_run = import_run
        super().__init__("\n".join(str(e) for e in errors))


class FileInvalid(Exception):
    """A problem that stops reading the file at once (not JSON, not UTF-8, unknown format)."""

    def __init__(self, item: ImportErrorItem, *more: ImportErrorItem):
        self.items = [item, *more]
        super().__init__("\n".join(str(i) for i in self.items))


@dataclass
class Problems:
    """Errors and warnings collected over a whole import."""

    errors: list[ImportErrorItem] = field(default_factory=list)
    warnings: list[ImportErrorItem] = field(default_factory=list)
    n_warnings: int = 0
    #: Warnings reported once per import (e.g. an unknown key), keyed by kind.
    _once: set[str] = field(default_factory=set)

    @property
    def full(self) -> bool:
        return len(self.errors) >= MAX_ERRORS

    def error(self, item: ImportErrorItem) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(item)

    def warn(self, item: ImportErrorItem, *, once: str | None = None) -> None:
        if once is not None:
            if once in self._once:
                return
            self._once.add(once)
        self.n_warnings += 1
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(item)

    def sort(self) -> None:
        """Order by position: reading and writing run in two threads and report apart."""

        def key(item: ImportErrorItem) -> tuple[int, int]:
            return (-1 if item.line is None else item.line, item.record or 0)

        self.errors.sort(key=key)
        self.warnings.sort(key=key)

    def warnings_for_storage(self) -> list[dict[str, Any]]:
        stored = [w.as_dict() for w in self.warnings]
        if self.n_warnings > len(self.warnings):
            more = self.n_warnings - len(self.warnings)
            stored.append({"line": None, "field": "", "message": f"… and {more} more warnings"})
        return stored
