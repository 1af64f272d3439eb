"""The audit log reads as sentences: every audit action the code records has a lv/en sentence,
the sentence names people and case numbers (L-000007) and fills in the entry's details, and an
action without a sentence still reads as a sentence, never as its code or JSON."""
from __future__ import annotations

import ast
from pathlib import Path

from portal.audit.sentences import SENTENCES
from referendum_core import audit

ROOT = Path(__file__).resolve().parents[2]


def _refusal_areas() -> list[str]:
    """The ``area`` of every refusal class (``<area>.refused`` is audited by the portal)."""
    areas = []
    for package in ("portal", "referendum_core", "messaging"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (isinstance(node, ast.ClassDef)):
                    for item in node.body:
                        if (isinstance(item, ast.Assign | ast.AnnAssign)
                                and getattr(getattr(item, "target", None)
                                            or item.targets[0], "id", None) == "area"
                                and isinstance(item.value, ast.Constant)
                                and item.value.value not in ("refused", "")):
                            areas.append(item.value.value)
    return areas


def _recorded_actions() -> dict[str, str]:
    """Every action string passed to ``audit.record`` in the code, with where it is."""
    found: dict[str, str] = {}
    areas = _refusal_areas()
    for package in ("portal", "referendum_core", "messaging"):
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names = _string_names(tree)
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr == "record"
                        and getattr(node.func.value, "id", None) == "audit"
                        and len(node.args) >= 4):
                    continue
                for value in _strings(node.args[3], names, areas):
                    found.setdefault(value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def _string_names(tree: ast.AST) -> dict[str, list[str]]:
    """Names bound to strings: module constants and parameters' defaults."""
    names: dict[str, list[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                    names.setdefault(target.id, []).append(node.value.value)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            args = node.args.args + node.args.kwonlyargs
            defaults = [None] * (len(node.args.args) - len(node.args.defaults)) + list(
                node.args.defaults) + list(node.args.kw_defaults)
            for arg, default in zip(args, defaults, strict=True):
                if isinstance(default, ast.Constant) and isinstance(default.value, str):
                    names.setdefault(arg.arg, []).append(default.value)
    return names


def _strings(node: ast.AST, names: dict[str, list[str]], areas: list[str]) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _strings(node.body, names, areas) + _strings(node.orelse, names, areas)
    if (isinstance(node, ast.JoinedStr) and isinstance(node.values[-1], ast.Constant)
            and node.values[-1].value == ".refused" and len(node.values) == 2):
        return [f"{area}.refused" for area in areas]  # f"{err.area}.refused"
    if isinstance(node, ast.Name):
        return names.get(node.id, [])
    raise AssertionError(f"an audit action the test cannot read: {ast.unparse(node)}")


def test_every_recorded_audit_action_has_a_sentence():
    actions = _recorded_actions()
    assert len(actions) > 60  # the scan found the code's actions
    missing = {a: where for a, where in actions.items() if a not in SENTENCES}
    assert missing == {}


def test_the_log_reads_as_sentences_with_names_and_case_numbers(client, people, login_as,
                                                                db_session, clock):
    admin, chair = people.cvk_admin(), people.chair()
    audit.record(db_session, clock, chair, "case.transition", object_type="Case", object_id=7,
                 transition="review", from_state="submitted", to_state="under_review",
                 version=2)
    audit.record(db_session, clock, chair, "some.new_action", object_type="Case", object_id=9)
    audit.record(db_session, clock, chair, "case.opened", object_type="Case", object_id=9,
                 case_type="initiative", state="submitted")
    db_session.commit()
    login_as(admin)
    html = client.get("/audit/").get_data(as_text=True)
    assert (f"{chair.display_name} pārcēla lietu L-000007 no stāvokļa “Iesniegta” uz "
            "“Tiek izskatīta”.") in html
    assert f"{chair.display_name} veica darbību: L-000009." in html
    assert f"{chair.display_name} atvēra lietu L-000009 (Iniciatīva)." in html
    for raw in ("case.transition", "some.new_action", "under_review", "initiative", '{&#34;', '{"',
                "&lt;", "@"):
        assert raw not in _table(html), raw
    client.post("/lang/en")
    html = client.get("/audit/").get_data(as_text=True)
    assert (f"{chair.display_name} moved case L-000007 from “Submitted” to “Under review”."
            in html)


def test_the_filter_offers_groups_of_actions_by_name(client, people, login_as, db_session,
                                                     clock):
    admin = people.cvk_admin()
    audit.record(db_session, clock, admin, "case.transition", object_type="Case", object_id=7)
    audit.record(db_session, clock, admin, "voting.opened", object_type="Case", object_id=8)
    db_session.commit()
    login_as(admin)
    html = client.get("/audit/?action=cases").get_data(as_text=True)
    assert "L-000007" in _table(html) and "L-000008" not in _table(html)
    assert '<option value="cases" selected>Lietas</option>' in html


def _table(html: str) -> str:
    return html[html.index("<tbody>"):html.index("</tbody>")]
