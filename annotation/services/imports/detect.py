"""Which format a file is in, from its name and its first record."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from annotation.services.imports.arena import Arena
from annotation.services.imports.base import Format
from annotation.services.imports.canonical import Canonical
from annotation.services.imports.csv_format import Csv
from annotation.services.imports.errors import MAX_ERRORS, FileInvalid, ImportErrorItem
from annotation.services.imports.hh_rlhf import HhRlhf
from annotation.services.imports.pandalm import PandaLM
from annotation.services.imports.readers import RawRecord, Source, first_char, iter_json

FORMATS: dict[str, type[Format]] = {
    fmt.name: fmt for fmt in (Canonical, Csv, HhRlhf, PandaLM, Arena)
}
FORMAT_CHOICES = ("auto", *FORMATS)
_JSON_FORMATS = (Canonical, HhRlhf, PandaLM, Arena)


def detect(name: str, source: Source) -> tuple[str, Iterator[RawRecord] | None]:
    """The format's name, and for JSON the records already opened (first one peeked).

    By extension first (``.csv``, after removing ``.gz``), then by content: a JSON array
    or JSON Lines is told apart by its first non-blank character and its format by the
    keys of its first record; otherwise a first line naming ``response_a`` is CSV.
    """
    head = source.head()
    char = first_char(head)
    base = name.lower().removesuffix(".gz")
    if base.endswith(".csv"):
        return Csv.name, None
    if char in ("[", "{"):
        records = iter_json(source.stream, head)
        # The first record that parses tells the format; unparsable lines before it are
        # kept and reported with the rest.
        seen = list(itertools.islice(_until_valid(records), MAX_ERRORS + 1))
        if not seen:
            raise FileInvalid(ImportErrorItem(None, "", "the file holds no records"))
        if seen[-1].error is not None:
            raise FileInvalid(*(raw.error for raw in seen[:MAX_ERRORS]))
        return _by_keys(seen[-1]), itertools.chain(seen, records)
    first_line = head.split(b"\n", 1)[0]
    if b"response_a" in first_line and b"," in first_line:
        return Csv.name, None
    raise FileInvalid(
        ImportErrorItem(
            1, "", "cannot detect the format (neither JSON nor a CSV header); pass a format"
        )
    )


def _until_valid(records: Iterator[RawRecord]) -> Iterator[RawRecord]:
    for raw in records:
        yield raw
        if raw.error is None:
            return


def _by_keys(first: RawRecord) -> str:
    keys = set(first.data) if isinstance(first.data, dict) else set()
    scores = {fmt.name: len(fmt.signature & keys) for fmt in _JSON_FORMATS}
    best = max(scores.values())
    winners = [name for name, score in scores.items() if score == best]
    if best == 0 or len(winners) > 1:
        shown = ", ".join(sorted(keys)[:12]) or "none"
        raise FileInvalid(
            ImportErrorItem(
                first.line,
                "",
                f"cannot detect the format from the first record's keys ({shown}); pass a format",
                first.record,
            )
        )
    return winners[0]
