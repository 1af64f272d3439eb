"""``docs/law.md`` is the project's table of the law's rules: every article it lists as
implemented has at least one test whose name or docstring names it.

Articles (of the referendum law, "Art.", and of the Voter Register Law, "VRL") are read from
``docs/law.md`` (the repository stands alone); rules listed under
"Not implemented" are exempt and say what is missing. A test "names" ``Art. 13(4)`` with
``test_art13_4_...`` / ``test_art_13_4_...`` in its name or ``Art. 13(4)`` in its docstring
(also inside a list such as ``Art. 5, 10(5), 13(4)`` or a range ``Art. 10(4)-(6)``); an
article without a part (``Art. 6``) is named by any test naming it or one of its parts.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAW = ROOT / "docs" / "law.md"
NOT_IMPLEMENTED = "## Not implemented"
# "Art." followed by a list of references: 5 | 10(4)-(6) | 29-30 | 20(9)-(10), 21 | 7¹
_LIST = re.compile(r"(Art\.|VRL)\s*((?:\d+[¹²]?(?:\(\d+[¹²]?\))?(?:\s*[-–]\s*\(?\d+[¹²]?\)?)?"
                   r"(?:\s*,\s*|\s+and\s+)?)+)")
_ONE = re.compile(r"(\d+[¹²]?)(?:\((\d+[¹²]?)\))?(?:\s*[-–]\s*(\()?(\d+[¹²]?)\)?)?")
_NAME = re.compile(r"art_?(\d+)(?:_(\d+))?(?![0-9])")


def article_refs(text: str) -> set[str]:
    """``Art. 10(4)-(6), 26`` -> {"10(4)", "10(5)", "10(6)", "26"}; articles of the Voter
    Register Law keep their prefix: ``VRL 12, 15(5)`` -> {"VRL 12", "VRL 15(5)"}."""
    refs: set[str] = set()
    for law, listing in _LIST.findall(text):
        prefix = "VRL " if law == "VRL" else ""
        for number, part, paren, upto in _ONE.findall(listing):
            if upto and part and paren:  # 10(4)-(6)
                found = {f"{number}({p})" for p in range(int(part), int(upto) + 1)}
            elif upto and not part and number.isdigit() and upto.isdigit():  # 29-30
                found = {str(n) for n in range(int(number), int(upto) + 1)}
            else:
                found = {f"{number}({part})" if part else number}
            refs |= {prefix + ref for ref in found}
    return refs


def implemented_articles() -> dict[str, str]:
    """Each article reference in the implemented table of docs/law.md -> its row's rule."""
    text = LAW.read_text(encoding="utf-8")
    implemented = text.split(NOT_IMPLEMENTED, 1)[0]
    found: dict[str, str] = {}
    for line in implemented.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 5 \
                or not cells[0].startswith(("Art.", "VRL")):
            continue
        for ref in article_refs(cells[0]):
            found.setdefault(ref, cells[1])
    return found


def named_by_tests() -> set[str]:
    """Every article reference some test function names (in its name or docstring)."""
    named: set[str] = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) \
                    and node.name.startswith("test"):
                for number, part in _NAME.findall(node.name):
                    named.add(f"{number}({part})" if part else number)
                named |= article_refs(ast.get_docstring(node) or "")
    return named


def _is_named(ref: str, named: set[str]) -> bool:
    if "(" in ref:
        return ref in named
    return ref in named or any(n.startswith(f"{ref}(") for n in named)


def test_article_references_are_parsed_as_the_law_writes_them():
    assert article_refs("Art. 10(4)–(6)") == {"10(4)", "10(5)", "10(6)"}
    assert article_refs("Art. 20(9)-(10), 21") == {"20(9)", "20(10)", "21"}
    assert article_refs("Art. 4(6), 29–30") == {"4(6)", "29", "30"}
    assert article_refs("Art. 5, 10(5), 13(4)") == {"5", "10(5)", "13(4)"}
    assert article_refs("VRL 7¹, 12, 12¹, 15(5)") == {"VRL 7¹", "VRL 12", "VRL 12¹",
                                                      "VRL 15(5)"}
    assert _NAME.findall("test_art_20_7_filing") == [("20", "7")]


def test_the_law_table_lists_rules_with_code_and_tests():
    articles = implemented_articles()
    assert len(articles) >= 40, "docs/law.md lost its table"
    assert NOT_IMPLEMENTED in LAW.read_text(encoding="utf-8")


def test_every_article_in_docs_law_md_has_a_test_naming_it():
    named = named_by_tests()
    missing = {ref: rule for ref, rule in implemented_articles().items()
               if not _is_named(ref, named)}
    listing = "\n".join(f"{ref}: {rule}" for ref, rule in sorted(missing.items()))
    assert not missing, ("these articles of docs/law.md have no test naming them (name a test "
                         "test_artN_M_... or put 'Art. N(M)' in its docstring, or move the "
                         f"rule under '{NOT_IMPLEMENTED}'):\n{listing}")
