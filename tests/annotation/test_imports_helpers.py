"""Helpers shared by the import tests (no tests here): fixture files, row counts."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from annotation.models import Comparison, CriterionAnswer, ImportRun, Judgment, Prompt, Response


def write_jsonl(path: Path, records, *, gz: bool = False) -> Path:
    text = "".join(
        (r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in records
    )
    if gz:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text, encoding="utf-8")
    return path


def write_json(path: Path, records) -> Path:
    path.write_text(json.dumps(records, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def row_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Prompt, Response, Comparison, Judgment, CriterionAnswer)
    }


def assert_judgment_counts_consistent() -> None:
    for comparison in Comparison.objects.all():
        assert comparison.n_judgments == comparison.judgments.count(), comparison


def failed_runs():
    return ImportRun.objects.filter(status=ImportRun.Status.FAILED)
