"""Article references ("Art. 13(6)-(7)", as the core writes them) in the page's language:
Latvian pages say "13. panta sestā–septītā daļa", as Latvian legal text does."""
from __future__ import annotations

import re

_REF = re.compile(r"Art\. (\d+)(?:\((\d+)\))?(?:-\((\d+)\))?")
_ORDINALS = ("pirmā", "otrā", "trešā", "ceturtā", "piektā", "sestā", "septītā", "astotā",
             "devītā", "desmitā", "vienpadsmitā", "divpadsmitā")


def _latvian(match: re.Match[str]) -> str:
    article, first, last = match.groups()
    if first is None:
        return f"{article}. pants"
    parts = [int(first)] + ([int(last)] if last else [])
    if any(n > len(_ORDINALS) for n in parts):
        return match.group(0)
    return f"{article}. panta {'–'.join(_ORDINALS[n - 1] for n in parts)} daļa"


def article_text(text: str, locale: str) -> str:
    """``text`` with each "Art. N(k)" reference in the words of ``locale`` (lv or en)."""
    return _REF.sub(_latvian, text) if locale == "lv" else text
