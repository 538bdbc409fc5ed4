"""Streaming readers: bytes (gzip or not) into located raw records, one at a time.

Nothing here knows a format's fields; a reader yields ``RawRecord(line, record, data)``
where ``line`` is the 1-based line the record starts on and ``record`` its 0-based index
when the file is a JSON array. A record that cannot be parsed (a bad JSON line) carries
its error instead of data, so reading can go on and report more than one problem; a
problem that makes the rest unreadable (a broken JSON array, invalid UTF-8 in a CSV)
raises ``FileInvalid``.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from annotation.services.imports.errors import FileInvalid, ImportErrorItem

BUFFER = 1 << 20
#: A single JSON value larger than this inside an array is treated as an error.
MAX_VALUE_CHARS = 256 << 20
_BOM = codecs.BOM_UTF8


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


# Python's json accepts NaN and Infinity, which neither JSON nor PostgreSQL's jsonb does.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)

# Long responses exceed csv's default 128 KiB field limit.
csv.field_size_limit(min(sys.maxsize, 1 << 31))


@dataclass(slots=True)
class RawRecord:
    line: int
    record: int | None
    data: Any = None
    error: ImportErrorItem | None = None


class _Reader(io.RawIOBase):
    """Adapts any object with ``read()`` (bytes or str) to a raw binary stream."""

    def __init__(self, source: Any):
        self._source = source
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        size = len(buffer)
        if not self._pending:
            chunk = self._source.read(size)
            if isinstance(chunk, str):
                chunk = chunk.encode("utf-8", "surrogatepass")
            self._pending = chunk or b""
        data, self._pending = self._pending[:size], self._pending[size:]
        buffer[: len(data)] = data
        return len(data)


def source_name(path_or_fileobj: Any, filename: str | None) -> str:
    if filename:
        return filename
    if isinstance(path_or_fileobj, str | Path):
        return Path(path_or_fileobj).name
    return Path(str(getattr(path_or_fileobj, "name", "") or "upload")).name


class Source:
    """A file opened for reading, transparently gunzipped (by content, not by name)."""

    def __init__(self, path_or_fileobj: Any):
        self._owned: IO[bytes] | None = None
        if isinstance(path_or_fileobj, str | Path):
            self._owned = open(path_or_fileobj, "rb")  # noqa: SIM115 (closed in close())
            raw: Any = self._owned
        else:
            raw = path_or_fileobj
            if hasattr(raw, "seek") and getattr(raw, "seekable", lambda: False)():
                raw.seek(0)
        stream: io.BufferedReader = io.BufferedReader(_Reader(raw), BUFFER)
        self.compressed = stream.peek(2)[:2] == b"\x1f\x8b"
        if self.compressed:
            stream = io.BufferedReader(_Reader(gzip.GzipFile(fileobj=stream)), BUFFER)
        self.stream = stream

    def head(self) -> bytes:
        """The first bytes of the (decompressed) content, without consuming them."""
        try:
            return self.stream.peek(BUFFER)[:BUFFER]
        except (OSError, EOFError) as exc:
            raise FileInvalid(ImportErrorItem(None, "", f"cannot read the file: {exc}")) from exc

    def close(self) -> None:
        if self._owned is not None:
            self._owned.close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def first_char(head: bytes) -> str:
    """The first non-blank character of the content ('' when there is none)."""
    stripped = head.removeprefix(_BOM).lstrip()
    return chr(stripped[0]) if stripped else ""


def _lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    try:
        for number, raw in enumerate(stream, 1):
            if number == 1:
                raw = raw.removeprefix(_BOM)
            yield number, raw
    except (OSError, EOFError) as exc:  # a corrupt or truncated gzip stream
        raise FileInvalid(ImportErrorItem(None, "", f"cannot read the file: {exc}")) from exc


def iter_jsonl(stream: IO[bytes]) -> Iterator[RawRecord]:
    """One JSON value per non-blank line."""
    for number, raw in _lines(stream):
        line = raw.strip()
        if not line:
            continue
        try:
            # Decoding first is twice as fast as handing json.loads the bytes.
            data = _DECODER.decode(line.decode("utf-8"))
        except UnicodeDecodeError as exc:
            message = f"not valid UTF-8 (byte {exc.start + 1} of the line)"
            yield RawRecord(number, None, error=ImportErrorItem(number, "", message))
        except json.JSONDecodeError as exc:
            message = f"invalid JSON: {exc.msg} (column {exc.colno})"
            yield RawRecord(number, None, error=ImportErrorItem(number, "", message))
        except (ValueError, RecursionError) as exc:
            message = f"invalid JSON: {_reason(exc)}"
            yield RawRecord(number, None, error=ImportErrorItem(number, "", message))
        else:
            yield RawRecord(number, None, data)


def _reason(exc: Exception) -> str:
    return "nested too deeply" if isinstance(exc, RecursionError) else str(exc)


class _Text:
    """Incrementally decoded UTF-8 text with a moving window and line bookkeeping."""

    def __init__(self, stream: IO[bytes]):
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self.buf = ""
        self.pos = 0
        self.line = 1  # the line at ``pos``
        self.eof = False
        self._first = True

    def fill(self) -> bool:
        """Read more text; False at the end of the input."""
        if self.eof:
            return False
        try:
            chunk = self._stream.read(BUFFER)
        except (OSError, EOFError) as exc:
            raise FileInvalid(ImportErrorItem(None, "", f"cannot read the file: {exc}")) from exc
        if self._first:
            chunk, self._first = chunk.removeprefix(_BOM), False
        try:
            text = self._decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            line = self.line + self.buf.count("\n", self.pos) + chunk.count(b"\n", 0, exc.start)
            raise FileInvalid(ImportErrorItem(line, "", "not valid UTF-8")) from exc
        if not chunk:
            self.eof = True
        self.buf = self.buf[self.pos :] + text
        self.pos = 0
        return bool(chunk)

    def advance(self, to: int) -> None:
        self.line += self.buf.count("\n", self.pos, to)
        self.pos = to

    def skip_blank(self) -> str:
        """Skip whitespace; the next character, or '' at the end of the input."""
        while True:
            buf, pos, size = self.buf, self.pos, len(self.buf)
            while pos < size and buf[pos] in " \t\r\n":
                pos += 1
            self.advance(pos)
            if pos < size:
                return buf[pos]
            if not self.fill():
                return ""

    def error(self, message: str, *, at: int | None = None, record: int | None = None):
        line = self.line + self.buf.count("\n", self.pos, at) if at is not None else self.line
        return FileInvalid(ImportErrorItem(line, "", message, record))


def iter_json_array(stream: IO[bytes]) -> Iterator[RawRecord]:
    """The elements of one top-level JSON array, parsed one at a time."""
    decoder = _DECODER
    text = _Text(stream)
    if text.skip_blank() != "[":
        raise text.error("invalid JSON: expected a JSON array")
    text.advance(text.pos + 1)
    index = 0
    while True:
        char = text.skip_blank()
        if char == "]" and index == 0:
            text.advance(text.pos + 1)
            break
        if index > 0:
            if char == "]":
                text.advance(text.pos + 1)
                break
            if char != ",":
                message = "invalid JSON: expected ',' or ']' after a record"
                raise text.error(message, record=index - 1)
            text.advance(text.pos + 1)
            char = text.skip_blank()
        if not char:
            raise text.error("invalid JSON: the array is not closed", record=index)
        while True:
            try:
                value, end = decoder.raw_decode(text.buf, text.pos)
            except json.JSONDecodeError as exc:
                # An error at the end of the window may only mean the value goes on.
                truncated = exc.pos >= len(text.buf) - 1 or exc.msg.startswith("Unterminated")
                if truncated and len(text.buf) - text.pos < MAX_VALUE_CHARS and text.fill():
                    continue
                raise text.error(f"invalid JSON: {exc.msg}", at=exc.pos, record=index) from exc
            except (ValueError, RecursionError) as exc:
                raise text.error(f"invalid JSON: {_reason(exc)}", record=index) from exc
            if end >= len(text.buf) and text.fill():
                continue  # a number at the end of the window might go on
            break
        yield RawRecord(text.line, index, value)
        text.advance(end)
        index += 1
    if text.skip_blank():
        raise text.error("invalid JSON: data after the closing ']'")


def iter_json(stream: IO[bytes], head: bytes) -> Iterator[RawRecord]:
    """A JSON array's elements, or JSON Lines, by the first non-blank character."""
    if first_char(head) == "[":
        return iter_json_array(stream)
    return iter_jsonl(stream)


class CsvRecords:
    """Rows of a CSV file with a header line, as ``{column: value}`` records."""

    def __init__(self, stream: IO[bytes]):
        self._reader = csv.reader(self._decoded(stream))
        try:
            header = next(self._reader)
        except StopIteration:
            header = []
        self.header = [name.strip() for name in header]

    @staticmethod
    def _decoded(stream: IO[bytes]) -> Iterator[str]:
        for number, raw in _lines(stream):
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise FileInvalid(ImportErrorItem(number, "", "not valid UTF-8")) from exc

    def __iter__(self) -> Iterator[RawRecord]:
        reader, header = self._reader, self.header
        width = len(header)
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise FileInvalid(ImportErrorItem(start, "", f"invalid CSV: {exc}")) from exc
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != width:
                message = f"expected {width} fields as in the header, got {len(row)}"
                yield RawRecord(start, None, error=ImportErrorItem(start, "", message))
                continue
            yield RawRecord(start, None, dict(zip(header, row, strict=True)))
