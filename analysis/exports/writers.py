"""File writers for exports: JSON Lines, CSV and Parquet, fed one batch of columns at a time.

Every writer takes the export's Arrow schema up front and then batches as a mapping of
column name to a list of Python values (``None`` for a missing value), so memory holds one
batch, never the whole export. The output depends only on the rows and the library
versions (orjson, pyarrow), so the same rows give the same bytes.

* JSON Lines (orjson): one object per row, keys in schema order, nested values (message
  lists) as JSON arrays, missing values as ``null``.
* CSV (``pyarrow.csv.CSVWriter``): a header, strings always quoted (so ``""`` and a
  missing value, written as nothing, stay apart), nested values as JSON strings.
* Parquet (``pyarrow.parquet.ParquetWriter``): one row group per batch, snappy
  compression, dictionary encoding except for the long text columns.
"""

from __future__ import annotations

import contextlib
import hashlib
import queue
import threading
from collections.abc import Mapping, Sequence
from typing import Any, BinaryIO

import orjson
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

__all__ = ["FORMATS", "BackgroundWriter", "ExportWriter", "HashingSink", "open_writer"]

FORMATS = ("jsonl", "csv", "parquet")
Columns = Mapping[str, Sequence[Any]]


class HashingSink:
    """A binary file wrapper that counts the bytes written and hashes them (sha256)."""

    def __init__(self, file: BinaryIO):
        self._file = file
        self._hash = hashlib.sha256()
        self.size = 0
        self.closed = False

    def write(self, data) -> int:
        view = memoryview(data)
        self._hash.update(view)
        self.size += view.nbytes
        return self._file.write(view)

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        # The caller owns the file; pyarrow "closes" the sink when its writer closes.
        self.closed = True

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


class ExportWriter:
    """Writes batches of columns to ``sink`` in one format; ``close`` finishes the file."""

    def __init__(self, sink: Any, schema: pa.Schema):
        self.sink = sink
        self.schema = schema
        self.rows = 0

    def write(self, columns: Columns) -> int:
        """Write one batch (every schema column, equally long); return its row count."""
        lengths = {len(columns[name]) for name in self.schema.names}
        if len(lengths) > 1:
            raise ValueError(f"columns of one batch differ in length: {sorted(lengths)}")
        n = lengths.pop() if lengths else 0
        if n:
            self._write(columns, n)
            self.rows += n
        return n

    def close(self) -> None:
        raise NotImplementedError

    def abort(self) -> None:
        """Stop after an error; the caller discards the output."""
        # The output is being thrown away, and the first error is the one that matters.
        with contextlib.suppress(Exception):
            self.close()

    def _write(self, columns: Columns, n: int) -> None:
        raise NotImplementedError


class JsonlWriter(ExportWriter):
    def _write(self, columns: Columns, n: int) -> None:
        names = self.schema.names
        dumps, option = orjson.dumps, orjson.OPT_APPEND_NEWLINE
        lines = [
            dumps(dict(zip(names, row, strict=True)), option=option)
            for row in zip(*(columns[name] for name in names), strict=True)
        ]
        self.sink.write(b"".join(lines))

    def close(self) -> None:
        pass  # JSON Lines has no header or footer


def _table(columns: Columns, schema: pa.Schema) -> pa.Table:
    # pa.table rather than a record batch: a column over 2 GB becomes a chunked array.
    return pa.table(
        [pa.array(columns[field.name], type=field.type) for field in schema], schema=schema
    )


class CsvWriter(ExportWriter):
    def __init__(self, sink: Any, schema: pa.Schema):
        super().__init__(sink, schema)
        self._nested = {f.name for f in schema if pa.types.is_nested(f.type)}
        flat = pa.schema(
            [pa.field(f.name, pa.string()) if f.name in self._nested else f for f in schema]
        )
        self._flat = flat
        self._writer = pa_csv.CSVWriter(sink, flat)

    def _write(self, columns: Columns, n: int) -> None:
        if self._nested:
            dumps = orjson.dumps
            columns = {
                **columns,
                **{
                    name: [None if v is None else dumps(v).decode() for v in columns[name]]
                    for name in self._nested
                },
            }
        self._writer.write_table(_table(columns, self._flat))

    def close(self) -> None:
        self._writer.close()


class ParquetWriter(ExportWriter):
    def __init__(self, sink: Any, schema: pa.Schema, *, long_text: Sequence[str] = ()):
        super().__init__(sink, schema)
        # Dictionaries pay off for repeated values (models, annotators, choices); for long
        # unique texts they cost a failed attempt per page.
        dictionary = [
            f.name for f in schema if not pa.types.is_nested(f.type) and f.name not in long_text
        ]
        self._writer = pq.ParquetWriter(
            sink, schema, compression="snappy", use_dictionary=dictionary
        )

    def _write(self, columns: Columns, n: int) -> None:
        self._writer.write_table(_table(columns, self.schema), row_group_size=n)

    def close(self) -> None:
        self._writer.close()


_STOP = object()


class BackgroundWriter:
    """Runs a writer in a thread of its own, so that encoding and writing one batch
    overlaps with reading the next (the database works meanwhile, and the reading thread
    waits on it without the GIL). At most one batch waits in between; an error in
    the thread is raised by the next ``write`` or by ``close``.
    """

    def __init__(self, writer: ExportWriter):
        self.writer = writer
        self._queue: queue.Queue = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="export-writer", daemon=True)
        self._thread.start()

    @property
    def rows(self) -> int:
        return self.writer.rows

    def _run(self) -> None:
        while (columns := self._queue.get()) is not _STOP:
            if self._error is None:  # after an error, drain the queue so put() never blocks
                try:
                    self.writer.write(columns)
                except BaseException as exc:
                    self._error = exc

    def _check(self) -> None:
        if self._error is not None:
            raise self._error

    def write(self, columns: Columns) -> None:
        self._check()
        self._queue.put(columns)

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join()
        self._check()
        self.writer.close()

    def abort(self) -> None:
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()
        self.writer.abort()


def open_writer(
    format: str, sink: Any, schema: pa.Schema, *, long_text: Sequence[str] = ()
) -> ExportWriter:
    """A writer of ``format`` (``jsonl``, ``csv`` or ``parquet``) to the binary ``sink``.

    ``long_text`` names columns of long unique text (Parquet encodes them without a
    dictionary).
    """
    if format == "jsonl":
        return JsonlWriter(sink, schema)
    if format == "csv":
        return CsvWriter(sink, schema)
    if format == "parquet":
        return ParquetWriter(sink, schema, long_text=long_text)
    raise ValueError(f"unknown export format {format!r}; expected one of {', '.join(FORMATS)}")
