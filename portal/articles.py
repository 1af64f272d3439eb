"""Article references ("Art. 13(6)-(7)", as the core writes them) in the page's language:
Latvian pages say "13. panta sestā–septītā daļa", as Latvian legal text does. A list after
one "Art." ("Art. 20(9)-(10), 21") names each article in full ("…daļa, 21. pants")."""
from __future__ import annotations

import re

_ONE = r"(\d+)(?:\((\d+)\))?(?:-\((\d+)\))?"
_ONE_RE = re.compile(_ONE)
# One reference, then any more after ", " that end where the reference does (a closing
# bracket, punctuation or the end), so that ", 10 days" after a reference is left alone.
_REF = re.compile(rf"Art\. {_ONE}((?:, \d+(?:\(\d+\))?(?:-\(\d+\))?(?=[)\];:,.]|$))*)")
_ORDINALS = ("pirmā", "otrā", "trešā", "ceturtā", "piektā", "sestā", "septītā", "astotā",
             "devītā", "desmitā", "vienpadsmitā", "divpadsmitā")


def _latvian(match: re.Match[str]) -> str:
    article, first, last, more = match.groups()
    one = _one(match.group(0).split(",")[0], article, first, last)
    rest = [_one(m.group(0), *m.groups()) for m in _ONE_RE.finditer(more or "")]
    return ", ".join([one, *rest])


def _one(original: str, article: str, first: str | None, last: str | None) -> str:
    if first is None:
        return f"{article}. pants"
    parts = [int(first)] + ([int(last)] if last else [])
    if any(n > len(_ORDINALS) for n in parts):
        return original
    return f"{article}. panta {'–'.join(_ORDINALS[n - 1] for n in parts)} daļa"


def article_text(text: str, locale: str) -> str:
    """``text`` with each "Art. N(k)" reference in the words of ``locale`` (lv or en)."""
    return _REF.sub(_latvian, text) if locale == "lv" else text
