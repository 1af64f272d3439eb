"""Protected objects are loaded by ``access_*`` functions of one shape,
``access_X(session, actor, x_id, permission)``, living in their area's ``access.py``: one
call loads and checks, so a view cannot load an object and forget the check."""
from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ACCESS_MODULES = sorted((ROOT / "portal").glob("*/access.py"))


def _access_functions() -> list[tuple[str, object]]:
    found = []
    for path in ACCESS_MODULES:
        module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
        found.extend((f"{module.__name__}.{name}", function)
                     for name, function in inspect.getmembers(module, inspect.isfunction)
                     if name.startswith("access_") and function.__module__ == module.__name__)
    return found


def test_each_area_that_protects_objects_has_an_access_module():
    areas = {path.parent.name for path in ACCESS_MODULES}
    assert {"cases", "initiatives", "messages", "voting"} <= areas
    assert len(_access_functions()) >= 4


def test_every_access_function_has_the_one_signature():
    wrong = {}
    for name, function in _access_functions():
        params = list(inspect.signature(function).parameters.values())
        shape = [p.name for p in params[:4]]
        rest = [p for p in params[4:] if p.kind is not inspect.Parameter.KEYWORD_ONLY]
        if len(shape) < 4 or shape[:2] != ["session", "actor"] or not shape[2].endswith("_id") \
                or shape[3] != "permission" or rest \
                or any(p.default is not inspect.Parameter.empty for p in params[:4]):
            wrong[name] = str(inspect.signature(function))
    assert not wrong, f"access_* functions not shaped (session, actor, x_id, permission): {wrong}"


def test_no_access_function_lives_outside_an_access_module():
    outside = []
    for path in sorted((ROOT / "portal").rglob("*.py")):
        if path.name == "access.py":
            continue
        tree = ast.parse(path.read_text())
        outside.extend(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"
                       for node in ast.walk(tree)
                       if isinstance(node, ast.FunctionDef) and node.name.startswith("access_"))
    assert not outside, outside
