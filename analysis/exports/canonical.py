"""A ``judgments`` export back into the canonical interchange format (docs/import-formats.md).

The judgments export holds everything the canonical format does except comparison
metadata and response ids, so a project exported this way and imported again (into
another project, or another tiebreak) analyses the same. Annotators come back as their
pseudonyms; style features are not carried (the importing side extracts them again).

    python -m analysis.exports.canonical judgments.parquet -o canonical.jsonl

Reads any of the three export formats (by extension, ``.gz`` not supported) batch by
batch, and writes one canonical record per comparison.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from analysis.exports.schema import A_PREFIX, B_PREFIX, CRITERION_PREFIX

__all__ = ["canonical_records", "read_export"]

_JUDGMENT_KEYS = ("annotator", "choice", "strength", "shown_left", "seconds", "rationale")


def read_export(path: str | Path, *, batch_rows: int = 10_000) -> Iterator[dict[str, Any]]:
    """The rows of an export file (``.jsonl``, ``.csv`` or ``.parquet``) as dicts, in order.

    CSV columns get the export's types (numbers, booleans, message lists decoded from
    their JSON strings), so every format gives the same rows.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        with path.open("rb") as file:
            for line in file:
                if line.strip():
                    yield orjson.loads(line)
    elif suffix == ".parquet":
        for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows):
            yield from batch.to_pylist()
    elif suffix == ".csv":
        yield from _read_csv(path)
    else:
        raise ValueError(f"{path}: expected a .jsonl, .csv or .parquet export")


def _csv_type(name: str) -> pa.DataType:
    if name in ("strength", "n_votes", "votes_a", "votes_b", "votes_tie") or (
        name.startswith(CRITERION_PREFIX) and name.endswith((".a", ".b"))
    ):
        return pa.int64()
    if name in ("seconds", "agreement", "mean_strength") or name.startswith((A_PREFIX, B_PREFIX)):
        return pa.float64()
    if name in ("prompt_is_conversation", "rubric_tied", "style_decided"):
        return pa.bool_()
    return pa.string()


def _read_csv(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as file:
        first = file.readline()  # the header: quoted names, comma-separated
    names = pa_csv.read_csv(pa.py_buffer(first)).column_names
    convert = pa_csv.ConvertOptions(
        column_types={name: _csv_type(name) for name in names},
        strings_can_be_null=True,  # an unquoted empty field is a missing value ...
        quoted_strings_can_be_null=False,  # ... and "" an empty string
    )
    reader = pa_csv.open_csv(
        path,
        read_options=pa_csv.ReadOptions(block_size=8 << 20),
        parse_options=pa_csv.ParseOptions(newlines_in_values=True),
        convert_options=convert,
    )
    # The prompt of the judgments and preferences kinds is a message list, a JSON string
    # in CSV (the column prompt_is_conversation marks those kinds).
    messages = "prompt_is_conversation" in names
    for batch in reader:
        for row in batch.to_pylist():
            if messages and row.get("prompt") is not None:
                row["prompt"] = orjson.loads(row["prompt"])
            yield row


def canonical_records(rows: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    """Canonical interchange records, one per comparison, from ``judgments`` export rows.

    ``rows`` must come in export order (a comparison's judgments together), as
    :func:`read_export` gives them. A prompt exported as a single string comes back as a
    string, a conversation as its messages; criterion columns become each judgment's
    ``criteria`` (unanswered ones left out).

    Raises
    ------
    ValueError
        A row lacks a column of the judgments kind (another kind's export, say).
    """
    record: dict[str, Any] | None = None
    criteria: list[tuple[str, str, str]] | None = None  # (column, key, "" / "a" / "b")
    for row in rows:
        if criteria is None:
            missing = [
                k for k in ("comparison_id", "prompt", "choice", "annotator") if k not in row
            ]
            if missing:
                raise ValueError(
                    f"not a judgments export: no column {', '.join(missing)} in the first row"
                )
            criteria = []
            for column in row:
                if column.startswith(CRITERION_PREFIX):
                    key = column[len(CRITERION_PREFIX) :]
                    side = ""
                    if key.endswith((".a", ".b")):
                        key, side = key[:-2], key[-1]
                    criteria.append((column, key, side))
        if record is None or record["id"] != row["comparison_id"]:
            if record is not None:
                yield record
            record = _comparison(row)
        record["judgments"].append(_judgment(row, criteria))
    if record is not None:
        yield record


def _comparison(row: Mapping[str, Any]) -> dict[str, Any]:
    messages = row["prompt"]
    single = (
        not row.get("prompt_is_conversation")
        and len(messages) == 1
        and messages[0]["role"] == "user"
    )
    record: dict[str, Any] = {
        "id": row["comparison_id"],
        "prompt": messages[0]["content"]
        if single
        else [{"role": m["role"], "content": m["content"]} for m in messages],
    }
    for side in ("a", "b"):
        response = {"text": row[f"response_{side}"]}
        if row.get(f"model_{side}"):
            response["model"] = row[f"model_{side}"]
        record[f"response_{side}"] = response
    record["judgments"] = []
    return record


def _judgment(row: Mapping[str, Any], criteria: list[tuple[str, str, str]]) -> dict[str, Any]:
    judgment = {key: row.get(key) for key in _JUDGMENT_KEYS if row.get(key) is not None}
    answers: dict[str, Any] = {}
    for column, key, side in criteria:
        value = row.get(column)
        if value is None:
            continue
        if side:
            answers.setdefault(key, {})[side] = value
        else:
            answers[key] = value
    if answers:
        judgment["criteria"] = answers
    if row.get("created_at"):
        judgment["created_at"] = row["created_at"]
    return judgment


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Turn a tiebreak judgments export into canonical JSON Lines."
    )
    parser.add_argument("export", type=Path, help="the export (.jsonl, .csv or .parquet)")
    parser.add_argument("-o", "--output", type=Path, help="where to write (default stdout)")
    args = parser.parse_args(argv)
    out = args.output.open("wb") if args.output else sys.stdout.buffer
    try:
        for record in canonical_records(read_export(args.export)):
            out.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))
    finally:
        if args.output:
            out.close()


if __name__ == "__main__":
    main()
