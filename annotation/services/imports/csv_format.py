"""CSV: one row per comparison, or per judgment when the judgment columns are filled."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from annotation.services.imports import records as r
from annotation.services.imports.base import Format
from annotation.services.imports.errors import FileInvalid, ImportErrorItem
from annotation.services.imports.readers import CsvRecords, RawRecord, Source

REQUIRED = ("prompt", "response_a", "response_b")
COMPARISON_COLUMNS = ("id", *REQUIRED, "model_a", "model_b", "metadata")
JUDGMENT_COLUMNS = (
    "annotator",
    "choice",
    "strength",
    "shown_left",
    "seconds",
    "rationale",
    "created_at",
    "criteria",
)
COLUMNS = frozenset(COMPARISON_COLUMNS + JUDGMENT_COLUMNS)


class Csv(Format):
    name = "csv"

    def records(self, source: Source) -> Iterable[RawRecord]:
        reader = CsvRecords(source.stream)
        header = reader.header
        if not any(header):
            raise FileInvalid(ImportErrorItem(1, "", "the file is empty (no header line)"))
        duplicated = sorted({name for name in header if header.count(name) > 1})
        if duplicated:
            raise FileInvalid(
                ImportErrorItem(1, "", f"columns named twice: {', '.join(duplicated)}")
            )
        missing = [name for name in REQUIRED if name not in header]
        if missing:
            raise FileInvalid(
                ImportErrorItem(1, "", f"required columns missing: {', '.join(missing)}")
            )
        unknown = [name for name in header if name not in COLUMNS]
        if unknown:
            self.problems.warn(ImportErrorItem(1, "", f"columns ignored: {', '.join(unknown)}"))
        return reader

    def parse(self, raw: RawRecord) -> r.ComparisonIn | None:
        loc = r.Located(self.problems, raw.line, raw.record)
        row: dict[str, str] = raw.data
        external_id = r.short_text(loc, row.get("id"), "id")
        prompt = r.messages(loc, row["prompt"], "prompt")
        a = r.response(loc, {"text": row["response_a"], "model": row.get("model_a")}, "response_a")
        b = r.response(loc, {"text": row["response_b"], "model": row.get("model_b")}, "response_b")
        meta = r.metadata(loc, self._json(loc, row, "metadata"), "metadata")
        judgments = []
        if row.get("choice", "").strip():
            judgment = r.judgment(loc, self._judgment(loc, row), "", self.criteria)
            if judgment is not r.INVALID:
                judgments.append(judgment)
        else:
            filled = [c for c in JUDGMENT_COLUMNS if c != "choice" and row.get(c, "").strip()]
            if filled:
                loc.error("choice", f"required when {', '.join(filled)} is given")
        return r.comparison(
            loc, external_id=external_id, prompt=prompt, a=a, b=b, meta=meta, judgments=judgments
        )

    def _judgment(self, loc: r.Located, row: dict[str, str]) -> dict[str, Any]:
        """The row's judgment columns in the canonical (typed) shape."""
        value: dict[str, Any] = {
            "annotator": row.get("annotator"),
            "choice": row["choice"].strip(),
            "shown_left": row.get("shown_left", "").strip(),
            "rationale": row.get("rationale", ""),
            "created_at": row.get("created_at", "").strip(),
            "criteria": self._json(loc, row, "criteria"),
        }
        for column, kind in (("strength", int), ("seconds", float)):
            cell = row.get(column, "").strip()
            try:
                value[column] = kind(cell) if cell else None
            except ValueError:
                loc.error(column, f"expected a number, got {cell!r}")
        return value

    @staticmethod
    def _json(loc: r.Located, row: dict[str, str], column: str) -> Any:
        cell = row.get(column, "").strip()
        if not cell:
            return None
        try:
            return json.loads(cell)
        except json.JSONDecodeError as exc:
            loc.error(column, f"invalid JSON: {exc.msg} (column {exc.colno})")
            return None
