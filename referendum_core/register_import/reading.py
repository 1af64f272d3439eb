"""Reading extracts as a stream: CSV, a JSON array (read incrementally) or JSON lines, each row
with the line it starts on; the header (the first object's fields) is checked first."""
from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterator
from typing import IO, Any

from referendum_core.register_import.exceptions import ImportRefused
from referendum_core.register_import.models import HEADERS, MAX_ROW_CHARS, RegisterSource


def _norm_key(name: str) -> str:
    return (name or "").strip().lower().lstrip("\ufeff")


def _check_fields(source: RegisterSource, names: list[str]) -> None:
    wanted = HEADERS[source]
    given = [_norm_key(n) for n in names]
    missing = tuple(n for n in wanted if n not in given)
    unexpected = tuple(n for n in given if n not in wanted)
    if missing or unexpected or len(set(given)) != len(given):
        raise ImportRefused("wrong_header", missing=missing, unexpected=unexpected)


def _text(stream: IO[bytes]) -> IO[str]:
    return io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")


def csv_rows(source: RegisterSource, stream: IO[bytes]
             ) -> Iterator[tuple[int, dict[str, str] | None]]:
    """(line, row) pairs; ``None`` for a row with the wrong number of columns."""
    text = _text(stream)
    reader = csv.reader(text)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportRefused("empty") from None
    except UnicodeDecodeError:
        raise ImportRefused("not_utf8") from None
    _check_fields(source, header)
    names = [_norm_key(n) for n in header]
    width = len(names)
    line_after = reader.line_num
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError:
            raise ImportRefused("not_utf8", line=line_after + 1) from None
        except csv.Error:
            raise ImportRefused("not_csv", line=line_after + 1) from None
        line, line_after = line_after + 1, reader.line_num
        if not values or values == [""]:
            continue
        yield line, (dict(zip(names, values, strict=True)) if len(values) == width else None)


_DECODER = json.JSONDecoder()


def json_rows(source: RegisterSource, stream: IO[bytes]
              ) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """Objects of a JSON array (read incrementally) or of JSON lines, with their line."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    checked = False

    def decoded() -> Iterator[str]:
        while True:
            chunk = stream.read(1 << 20)
            try:
                text = decoder.decode(chunk or b"", final=not chunk)
            except UnicodeDecodeError:
                raise ImportRefused("not_utf8") from None
            if text:
                yield text
            if not chunk:
                return

    def check(obj: Any) -> dict[str, Any] | None:
        nonlocal checked
        if not isinstance(obj, dict):
            return None
        if not checked:
            _check_fields(source, list(obj))
            checked = True
        if {_norm_key(k) for k in obj} != set(HEADERS[source]):
            return None
        return {_norm_key(k): ("" if v is None else str(v)) for k, v in obj.items()}

    texts = decoded()
    buf = ""
    for text in texts:
        buf += text
        if buf.strip():
            break
    if not buf.strip():
        raise ImportRefused("empty")
    if buf.lstrip()[0] == "[":
        yield from _json_array(buf, texts, check)
        return
    line, pending = 1, ""
    for text in chain(buf, texts):
        parts = (pending + text).split("\n")
        pending = parts.pop()
        for current in parts:
            if current.strip():
                yield line, _json_line(current, check)
            line += 1
    if pending.strip():
        yield line, _json_line(pending, check)


def _json_line(text: str, check: Any) -> dict[str, Any] | None:
    try:
        obj = _DECODER.decode(text.strip())
    except json.JSONDecodeError:
        return NOT_JSON_ROW
    return check(obj)


def _json_array(buf: str, texts: Iterator[str], check: Any
                ) -> Iterator[tuple[int, dict[str, Any] | None]]:
    line, pos, eof = 1, 0, False

    def more() -> bool:
        nonlocal buf, pos, eof
        text = next(texts, None)
        if text is None:
            eof = True
            return False
        buf, pos = buf[pos:] + text, 0
        return True

    def skip_ws() -> bool:
        nonlocal pos, line
        while True:
            while pos < len(buf) and buf[pos] in " \t\r\n":
                if buf[pos] == "\n":
                    line += 1
                pos += 1
            if pos < len(buf):
                return True
            if not more():
                return False

    skip_ws()
    pos += 1  # the opening bracket
    first = True
    while True:
        if not skip_ws():
            raise ImportRefused("not_json", line=line)
        if buf[pos] == "]":
            return
        if not first:
            if buf[pos] != ",":
                raise ImportRefused("not_json", line=line)
            pos += 1
            if not skip_ws():
                raise ImportRefused("not_json", line=line)
        first = False
        while True:
            try:
                obj, end = _DECODER.raw_decode(buf, pos)
            except json.JSONDecodeError:
                # No register row is megabytes long: past that the file is simply broken.
                if len(buf) - pos < MAX_ROW_CHARS and more():
                    continue
                raise ImportRefused("not_json", line=line) from None
            if end == len(buf) and not eof and more():
                continue  # a value may go on in the next chunk
            break
        start = line
        line += buf.count("\n", pos, end)
        pos = end
        yield start, check(obj)


NOT_JSON_ROW: dict[str, Any] = {"__not_json__": ""}


def chain(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest
