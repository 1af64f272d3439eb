"""A request's JSON body read by the election records' rule for keys
(``jsonstream.UNIQUE_KEYS_DECODER``: a key named twice is refused, not "the last one wins"):
strict UTF-8 (bytes that are not are refused, not replaced), one JSON value, and the place of
a fault said in words a person can find (line and column, or the path of a duplicate key)."""
from __future__ import annotations

import json
from typing import Any

from flask import request

from referendum_core.crypto import jsonstream


class BodyNotJson(ValueError):
    """The body is not what was asked for; ``where`` says where (or what) the fault is."""

    def __init__(self, where: str) -> None:
        super().__init__(where)
        self.where = where


def _duplicate_at(text: str) -> str:
    fault = jsonstream.find_fault(json.JSONDecoder(
        object_pairs_hook=jsonstream._Pairs).decode(text))  # noqa: SLF001 - the locating form
    return str(fault) if fault is not None else "a key named twice"


def json_object() -> dict[str, Any]:
    """The request body as a JSON object.

    Raises:
        BodyNotJson: not UTF-8, not JSON, a key named twice, or not an object.
    """
    raw = request.get_data(cache=True)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise BodyNotJson(f"byte {err.start + 1} is not UTF-8") from None
    try:
        body = jsonstream.UNIQUE_KEYS_DECODER.decode(text)
    except json.JSONDecodeError as err:
        raise BodyNotJson(f"line {err.lineno}, column {err.colno}") from None
    except RecursionError:
        raise BodyNotJson("nested too deep") from None
    except jsonstream._DuplicateKey:  # noqa: SLF001 - located by the decoding form above
        raise BodyNotJson(_duplicate_at(text)) from None
    except ValueError:  # NaN/Infinity, or a number longer than Python converts
        raise BodyNotJson("a value that is not strict JSON (NaN, Infinity or a number too "
                          "long)") from None
    if not isinstance(body, dict):
        raise BodyNotJson("the body is not a JSON object")
    return body
