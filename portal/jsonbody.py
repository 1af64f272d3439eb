"""A request's JSON body read by the election records' rule for keys
(``jsonstream.UNIQUE_KEYS_DECODER``: a key named twice is refused, not "the last one wins"):
strict UTF-8 (bytes that are not are refused, not replaced), one JSON value, and the place of
a fault given as values a sentence can name (line and column, the byte, the path of a
duplicate key).

A refusal names its ``reason`` (one of ``REASONS``) and ``params``; the sentence people read
is the text registry's (``portal.refusal_texts.json_body_text``), in the request's language.
``where`` is the same fault in English, for the logs only.
"""
from __future__ import annotations

import json
from typing import Any

from flask import request

from referendum_core import json_input
from referendum_core.crypto import jsonstream

REASONS = json_input.BODY_REFUSALS


class BodyNotJson(ValueError):
    """The body is not what was asked for: ``reason`` (one of ``REASONS``), ``params`` (the
    place: ``line``/``column``, ``byte``, ``key``) and ``where`` (the same in English)."""

    def __init__(self, reason: str, where: str, **params: Any) -> None:
        super().__init__(where)
        self.reason = reason
        self.where = where
        self.params = params


def _duplicate(text: str) -> BodyNotJson:
    """The refusal of a key named twice, located (the key, and the object it is in)."""
    fault = jsonstream.find_fault(json.JSONDecoder(
        object_pairs_hook=jsonstream._Pairs).decode(text))  # noqa: SLF001 - the locating form
    if fault is None or not fault.message.startswith("duplicate key "):
        return BodyNotJson("duplicate_key", "a key named twice", key="-", path="")
    key = fault.message.removeprefix("duplicate key ")[1:-1]
    return BodyNotJson("duplicate_key", str(fault), key=key, path=fault.location)


def json_object(*, require_json_type: bool = False) -> dict[str, Any]:
    """The request body as a JSON object (``require_json_type``: sent as ``application/json``).

    RFC 8259 (section 8.1) lets a parser refuse a byte-order mark; these bodies are election
    records, so one is refused by its own reason.

    Raises:
        BodyNotJson: another content type, a byte-order mark, not UTF-8, not JSON, a key named
            twice, nested too deep, not strict JSON, or not an object.
    """
    if require_json_type and not request.is_json:
        raise BodyNotJson("content_type", "the body is not sent as application/json",
                          content_type=request.mimetype or "-")
    raw = request.get_data(cache=True)
    if raw.startswith(b"\xef\xbb\xbf"):
        raise BodyNotJson("byte_order_mark", "a byte-order mark at the start")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise BodyNotJson("not_utf8", f"byte {err.start + 1} is not UTF-8",
                          byte=err.start + 1) from None
    try:
        body = jsonstream.UNIQUE_KEYS_DECODER.decode(text)
    except json.JSONDecodeError as err:
        raise BodyNotJson("syntax", f"line {err.lineno}, column {err.colno}",
                          line=err.lineno, column=err.colno) from None
    except RecursionError:
        raise BodyNotJson("too_deep", "nested too deep") from None
    except jsonstream._DuplicateKey:  # noqa: SLF001 - located by the decoding form above
        raise _duplicate(text) from None
    except ValueError:  # NaN/Infinity, or a number longer than Python converts
        raise BodyNotJson("not_strict", "a value that is not strict JSON (NaN, Infinity or a "
                          "number too long)") from None
    if not isinstance(body, dict):
        raise BodyNotJson("not_object", "the body is not a JSON object",
                          found="array" if isinstance(body, list) else "value")
    return body
