"""A strict incremental reader for one top-level JSON object (no third-party dependency).

Large arrays under chosen keys (the board, the audited ballots) are yielded element by element,
so a record with a million ballots is read in bounded memory, whatever its layout or key order.
Other values are parsed whole. The record contract (spec section 9, "Strict JSON") forbids
floats, NaN/Infinity, duplicate keys at any depth, lone surrogates and nesting deeper than the
format needs (:data:`MAX_DEPTH`); each is refused as :class:`InvalidRecord` located by its path
(``board[3].ballot.choices[0]``), never by a traceback.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import IO, Any

from .exceptions import InvalidRecord

#: The deepest nesting of arrays and objects the record needs, the record object being level 1:
#: record > board > entry > ballot > choices > choice > proof > proof entry.
MAX_DEPTH = 8

_WS = re.compile(r"[ \t\n\r]*")
_CHUNK = 1 << 20


def _no_float(value: str) -> Any:
    raise ValueError(f"floats are not allowed in the record: {value}")


def _no_constant(value: str) -> Any:
    raise ValueError(f"{value} is not allowed in the record")


class _DuplicateKey(ValueError):
    """Raised inside the decoder; the value is then decoded again to locate the key."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)  # in C: a duplicate shows only as a shorter dict
    if len(out) != len(pairs):
        raise _DuplicateKey("duplicate key")
    return out


class _Incomplete(json.JSONDecodeError):
    """A duplicate key was found before the end of the text read so far; more is needed to
    locate it."""


class _Pairs(list):  # type: ignore[type-arg]
    """An object decoded as its list of pairs, duplicates kept (used only to locate a fault)."""


#: The record decoder: no floats, no NaN/Infinity, no duplicate keys.
STRICT_DECODER = json.JSONDecoder(
    parse_float=_no_float, parse_constant=_no_constant, object_pairs_hook=_no_duplicates
)
_LOCATING_DECODER = json.JSONDecoder(object_pairs_hook=_Pairs)
#: Duplicate keys refused as in the record; numbers left as JSON has them, for inputs whose
#: fields are type-checked by name afterwards (the observer app's entries).
UNIQUE_KEYS_DECODER = json.JSONDecoder(parse_constant=_no_constant,
                                       object_pairs_hook=_no_duplicates)


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _has_lone_surrogate(s: str) -> bool:
    if s.isascii():
        return False
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def find_fault(value: Any, path: str = "", depth: int = 1) -> InvalidRecord | None:
    """The first breach of the strict-JSON rules in a decoded value (objects as dicts, or as
    :class:`_Pairs` when duplicates must be found), located; ``depth`` is the nesting level of
    ``value`` itself (1 for the record object)."""
    if isinstance(value, str):
        if _has_lone_surrogate(value):
            return InvalidRecord("string holds a lone surrogate (not Unicode text)", path)
        return None
    if isinstance(value, dict | list):
        if depth > MAX_DEPTH:
            return InvalidRecord(
                f"nested deeper than the record format needs (at most {MAX_DEPTH} levels)", path
            )
        if isinstance(value, dict | _Pairs):
            items = value.items() if isinstance(value, dict) else value
            seen: set[str] = set()
            for k, v in items:
                if _has_lone_surrogate(k):
                    return InvalidRecord("key holds a lone surrogate (not Unicode text)", path)
                if k in seen:
                    return InvalidRecord(f"duplicate key {k!r}", path)
                seen.add(k)
                fault = find_fault(v, _join(path, k), depth + 1)
                if fault is not None:
                    return fault
        else:
            for i, v in enumerate(value):
                fault = find_fault(v, _join(path, i), depth + 1)
                if fault is not None:
                    return fault
    return None


def _nesting_within(value: Any, depth: int) -> bool:
    """Is no array or object in the decoded ``value`` (itself at level ``depth``) nested
    deeper than :data:`MAX_DEPTH`? The containers only, without locating anything."""
    kind = type(value)
    if kind is not dict and kind is not list:
        return True
    if depth > MAX_DEPTH:
        return False
    for v in value.values() if kind is dict else value:
        if (type(v) is dict or type(v) is list) and not _nesting_within(v, depth + 1):
            return False
    return True


def check_strict(value: Any, path: str = "", depth: int = 1) -> Any:
    """Return ``value`` if it keeps the strict-JSON rules (no lone surrogate, not nested beyond
    :data:`MAX_DEPTH`); ``depth`` is the nesting level of ``value`` itself.

    Raises:
        InvalidRecord: located at the offending key, element or string.
    """
    fault = find_fault(value, path, depth)
    if fault is not None:
        raise fault
    return value


def _decode_strict(
    decoder: json.JSONDecoder, text: str, pos: int, path: str, depth: int
) -> tuple[Any, int]:
    """``decoder.raw_decode(text, pos)``, then the strict checks; faults located by ``path``.

    Raises:
        json.JSONDecodeError: malformed (or incomplete) JSON, for the caller to handle.
        InvalidRecord: a forbidden construct, located.
    """
    try:
        obj, end = decoder.raw_decode(text, pos)
    except _DuplicateKey:
        try:
            pairs, _ = _LOCATING_DECODER.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            # The value goes on past the text read so far: the caller reads more and retries.
            raise _Incomplete(exc.msg, exc.doc, exc.pos) from None
        except (ValueError, RecursionError):
            raise InvalidRecord("duplicate key", path) from None
        raise (find_fault(pairs, path, depth) or InvalidRecord("duplicate key", path)) from None
    except RecursionError:
        raise InvalidRecord(
            f"nested deeper than the record format needs (at most {MAX_DEPTH} levels)", path
        ) from None
    except json.JSONDecodeError:
        raise
    except ValueError as exc:
        raise InvalidRecord(f"forbidden JSON: {exc}", path) from None
    # ASCII text without a ``\u`` escape cannot decode to a string holding a lone surrogate:
    # then only the nesting is left to check, and it needs no walk over the strings.
    if (text.find("\\u", pos, end) < 0 and text[pos:end].isascii()
            and _nesting_within(obj, depth)):
        return obj, end
    return check_strict(obj, path, depth), end


def loads(text: str | bytes, *, path: str = "", depth: int = 1) -> Any:
    """Parse a whole JSON document with the record rules (spec section 9: no floats, NaN,
    duplicate keys, lone surrogates or nesting beyond :data:`MAX_DEPTH`). ``depth`` is the
    level of the document inside a record (a ballot is parsed at level 4).

    Raises:
        InvalidRecord: malformed JSON or a forbidden construct, located.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidRecord("not UTF-8 text", path) from None
    try:
        obj, end = _decode_strict(STRICT_DECODER, text, _WS.match(text, 0).end(), path, depth)  # type: ignore[union-attr]
    except json.JSONDecodeError as exc:
        raise InvalidRecord(f"not valid record JSON: {exc}", path) from None
    if _WS.match(text, end).end() != len(text):  # type: ignore[union-attr]
        raise InvalidRecord("not valid record JSON: extra data after the value", path)
    return obj


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
        try:
            data = self.fp.read(max(want, _CHUNK))
        except UnicodeDecodeError:
            raise InvalidRecord(
                f"the record is not UTF-8 text (after character {self.offset + len(self.buf)})"
            ) from None
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

    def value(self, decoder: json.JSONDecoder, path: str = "", depth: int = 2) -> Any:
        """The next value, strictly checked; ``depth`` is its nesting level in the record."""
        self.skip_ws()
        want = _CHUNK
        while True:
            try:
                obj, end = _decode_strict(decoder, self.buf, self.pos, path, depth)
            except json.JSONDecodeError as exc:
                if self.fill(want):
                    want *= 2  # doubling keeps re-parsing of a big value linear overall
                    continue
                if isinstance(exc, _Incomplete):
                    raise InvalidRecord("duplicate key", path) from None
                where = f" ({path})" if path else ""
                raise InvalidRecord(
                    f"malformed JSON at offset {self.offset}{where}: {exc.msg}", path
                ) from None
            # A number may continue in the next chunk.
            if end == len(self.buf) and not self.eof and self.fill(want):
                want *= 2
                continue
            self.pos = end
            return obj


class ArrayStream:
    """Iterator over the elements of one streamed array; must be exhausted (or skipped) before
    the reader moves on to the next key."""

    def __init__(self, buf: _Buffer, key: str = "") -> None:
        self._buf = buf
        self._key = key
        self._index = 0
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
        value = b.value(STRICT_DECODER, f"{self._key}[{self._index}]", 3)
        self._index += 1
        return value

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
        key = b.value(STRICT_DECODER, "", 1)
        if key in seen:
            raise InvalidRecord(f"duplicate top-level key {key!r}", str(key))
        seen.add(key)
        b.expect(":")
        if key in stream_keys and b.peek() == "[":
            b.pos += 1
            stream = ArrayStream(b, key)
            yield key, stream
            stream.skip()
        else:
            yield key, b.value(STRICT_DECODER, key, 2)
    if b.peek() != "":
        raise InvalidRecord(f"trailing data after the record at offset {b.offset}")
