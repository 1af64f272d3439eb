"""JSON from outside (request bodies, uploaded files) parsed with a bound on nesting. Ballots and
election records have stricter rules of their own (``referendum_core.crypto.jsonstream``).

The standard parser recurses once per level: a body of a few thousand ``[`` raises
``RecursionError`` (not a ``ValueError``, so it escapes every "not JSON" handler), and a
document just under that limit still makes every later recursive walk of it costly. Nothing the
portal takes is nested more than a few levels, so deeper input is refused as not acceptable JSON.
"""
from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32

#: Every reason a request's JSON body is refused for (``portal.jsonbody``): sent as a form or
#: another type, starting with a byte-order mark, bytes that are not UTF-8, not JSON, a key
#: named twice, nested too deep, a value that is not strict JSON (NaN, Infinity, a number too
#: long), or JSON that is not an object.
BODY_REFUSALS = ("content_type", "byte_order_mark", "not_utf8", "syntax", "duplicate_key",
                 "too_deep", "not_strict", "not_object")


class JSONTooDeep(ValueError):
    """The document nests arrays and objects deeper than allowed."""


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH, **kwargs: Any) -> Any:
    """``json.loads`` (``kwargs`` passed on) that refuses nesting deeper than ``max_depth``.

    Raises:
        ValueError: not JSON; ``JSONTooDeep`` when nested too deeply.
    """
    try:
        value = json.loads(text, **kwargs)
    except RecursionError:
        raise JSONTooDeep(f"nested more than {max_depth} levels") from None
    if _deeper_than(value, max_depth):
        raise JSONTooDeep(f"nested more than {max_depth} levels")
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    """Does ``value`` nest containers deeper than ``limit`` (a lone container is depth 1)?
    Walked with a stack, not recursion."""
    if not isinstance(value, dict | list):
        return False
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, dict | list))
    return False
