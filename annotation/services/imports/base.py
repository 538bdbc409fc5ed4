"""What every import format provides: how to read records and how to check one."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from annotation.services.imports.errors import Problems
from annotation.services.imports.readers import RawRecord, Source, iter_json
from annotation.services.imports.records import (
    ComparisonIn,
    CriterionSpec,
    Located,
    Skipped,
    type_name,
)


class Format:
    """A file format: ``records()`` reads raw records, ``parse()`` checks one.

    ``parse`` returns a ``ComparisonIn``, a ``Skipped`` (reported as a warning) or None
    when the record is invalid (its errors are in ``problems``).
    """

    name: ClassVar[str]
    #: The keys of a record that identify this format when detecting it.
    signature: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, *, problems: Problems, criteria: dict[str, CriterionSpec]):
        self.problems = problems
        self.criteria = criteria

    def records(self, source: Source) -> Iterable[RawRecord]:
        """JSON formats accept both a JSON array and JSON Lines."""
        return iter_json(source.stream, source.head())

    def parse(self, raw: RawRecord) -> ComparisonIn | Skipped | None:
        raise NotImplementedError

    def object_record(self, raw: RawRecord) -> tuple[Located, dict[str, Any] | None]:
        """The record's reporter, and its data if it is a JSON object."""
        loc = Located(self.problems, raw.line, raw.record)
        if not isinstance(raw.data, dict):
            loc.error("", f"expected a JSON object, got {type_name(raw.data)}")
            return loc, None
        return loc, raw.data

    def required(self, loc: Located, data: dict[str, Any], *keys: str) -> bool:
        missing = [key for key in keys if key not in data]
        for key in missing:
            loc.error(key, "required")
        return not missing

    def ignore_unknown(self, loc: Located, data: dict[str, Any], known: frozenset[str]) -> None:
        extra = set(data) - known
        if extra:
            names = ", ".join(sorted(extra))
            loc.warn("", f"keys ignored: {names}", once=f"{self.name}-keys:{names}")
