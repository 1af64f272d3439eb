"""A tolerant incremental reader for one top-level JSON object (no third-party dependency).

Large arrays under chosen keys (the board, the audited ballots) are yielded element by element,
so a record with a million ballots is read in bounded memory, whatever its layout or key order.
Other values are parsed whole. Floats, NaN/Infinity and duplicate keys (outside streamed arrays)
are refused because the record contract forbids them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import IO, Any

from .exceptions import InvalidRecord

_WS = re.compile(r"[ \t\n\r]*")
_CHUNK = 1 << 20


def _no_float(value: str) -> Any:
    raise ValueError(f"floats are not allowed in the record: {value}")


def _no_constant(value: str) -> Any:
    raise ValueError(f"{value} is not allowed in the record")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


#: Fast decoder for streamed elements; strict one (duplicate keys refused) for everything else.
FAST_DECODER = json.JSONDecoder(parse_float=_no_float, parse_constant=_no_constant)
STRICT_DECODER = json.JSONDecoder(
    parse_float=_no_float, parse_constant=_no_constant, object_pairs_hook=_no_duplicates
)


def loads(text: str | bytes) -> Any:
    """Parse a whole JSON document with the record rules (no floats, no duplicate keys).

    Raises:
        InvalidRecord: malformed JSON or a forbidden construct.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    try:
        return STRICT_DECODER.decode(text)
    except ValueError as exc:
        raise InvalidRecord(f"not valid record JSON: {exc}") from None


class _Buffer:
    def __init__(self, fp: IO[str]) -> None:
        self.fp = fp
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.consumed = 0  # characters dropped from the front of buf, for error offsets

    def fill(self, want: int = _CHUNK) -> bool:
        if self.eof:
            return False
        data = self.fp.read(max(want, _CHUNK))
        if not data:
            self.eof = True
            return False
        self.consumed += self.pos
        self.buf = self.buf[self.pos :] + data
        self.pos = 0
        return True

    def skip_ws(self) -> None:
        while True:
            self.pos = _WS.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf) or not self.fill():
                return

    def peek(self) -> str:
        self.skip_ws()
        return self.buf[self.pos] if self.pos < len(self.buf) else ""

    def expect(self, ch: str) -> None:
        if self.peek() != ch:
            got = self.peek() or "end of file"
            raise InvalidRecord(
                f"malformed JSON at offset {self.offset}: expected {ch!r}, got {got!r}"
            )
        self.pos += 1

    @property
    def offset(self) -> int:
        return self.consumed + self.pos

    def value(self, decoder: json.JSONDecoder) -> Any:
        self.skip_ws()
        want = _CHUNK
        while True:
            try:
                obj, end = decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if self.fill(want):
                    want *= 2  # doubling keeps re-parsing of a big value linear overall
                    continue
                raise InvalidRecord(f"malformed JSON at offset {self.offset}: {exc.msg}") from None
            except ValueError as exc:
                raise InvalidRecord(f"forbidden JSON at offset {self.offset}: {exc}") from None
            # A number may continue in the next chunk.
            if end == len(self.buf) and not self.eof and self.fill(want):
                want *= 2
                continue
            self.pos = end
            return obj


class ArrayStream:
    """Iterator over the elements of one streamed array; must be exhausted (or skipped) before
    the reader moves on to the next key."""

    def __init__(self, buf: _Buffer) -> None:
        self._buf = buf
        self._state = 0  # 0: before first, 1: after an element, 2: done

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        b = self._buf
        if self._state == 2:
            raise StopIteration
        ch = b.peek()
        if self._state == 0:
            if ch == "]":
                b.pos += 1
                self._state = 2
                raise StopIteration
        else:
            if ch == "]":
                b.pos += 1
                self._state = 2
                raise StopIteration
            b.expect(",")
        self._state = 1
        return b.value(FAST_DECODER)

    def skip(self) -> int:
        """Consume the remaining elements; return how many there were."""
        n = 0
        for _ in self:
            n += 1
        return n


def iter_object(fp: IO[str], stream_keys: frozenset[str]) -> Iterator[tuple[str, Any]]:
    """Yield ``(key, value)`` for the top-level object in ``fp``.

    For a key in ``stream_keys`` whose value is an array, the value is an :class:`ArrayStream`.

    Raises:
        InvalidRecord: malformed JSON, a non-object document, duplicate top-level keys, or
        trailing data.
    """
    b = _Buffer(fp)
    b.expect("{")
    seen: set[str] = set()
    first = True
    while True:
        ch = b.peek()
        if ch == "}":
            b.pos += 1
            break
        if not first:
            b.expect(",")
        first = False
        if b.peek() != '"':
            raise InvalidRecord(f"malformed JSON at offset {b.offset}: expected a key")
        key = b.value(STRICT_DECODER)
        if key in seen:
            raise InvalidRecord(f"duplicate top-level key {key!r}")
        seen.add(key)
        b.expect(":")
        if key in stream_keys and b.peek() == "[":
            b.pos += 1
            stream = ArrayStream(b)
            yield key, stream
            stream.skip()
        else:
            yield key, b.value(STRICT_DECODER)
    if b.peek() != "":
        raise InvalidRecord(f"trailing data after the record at offset {b.offset}")
