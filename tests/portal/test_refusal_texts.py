"""Every reason a service can refuse by has its sentence in the one registry, in Latvian and in
English: found from the code itself (each refusal class, its declared reasons, and every place
that builds one with a literal reason), so a new reason without a text fails here."""
from __future__ import annotations

import ast
import importlib
import inspect
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

from flask_babel import force_locale

from portal.refusal_texts import GENERIC, REGISTRY
from referendum_core.refusals import Refused

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("referendum_core", "messaging", "portal")


def _sources() -> list[tuple[str, ast.Module]]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found.append((module.removesuffix(".__init__"), ast.parse(path.read_text())))
    return found


def _refusal_classes(sources: list[tuple[str, ast.Module]]) -> list[type[Refused]]:
    """Every subclass of ``Refused`` in the three packages."""
    for module, tree in sources:
        if any(isinstance(node, ast.ClassDef) and node.bases for node in ast.walk(tree)) \
                and "Refused" in ast.unparse(tree):
            importlib.import_module(module)
    classes, pending = [], [Refused]
    while pending:
        cls = pending.pop()
        classes.append(cls)
        pending.extend(cls.__subclasses__())
    return classes


def _names(module: str, tree: ast.Module, classes: list[type[Refused]]
           ) -> dict[str, type[Refused]]:
    """The refusal classes a module can call by name (its own and those it imports)."""
    by_place = {(cls.__module__, cls.__name__): cls for cls in classes}
    names = {name: cls for (where, name), cls in by_place.items() if where == module}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module \
                and node.module.split(".")[0] in PACKAGES:
            for alias in node.names:
                cls = by_place.get((node.module, alias.name))
                if cls is None:  # re-exported by a package's __init__
                    found = getattr(importlib.import_module(node.module), alias.name, None)
                    cls = found if isinstance(found, type) and found in classes else None
                if cls is not None:
                    names[alias.asname or alias.name] = cls
    return names


def _first_parameter(cls: type[Refused]) -> str | None:
    """The first argument of the class's own constructor (None: Exception's message)."""
    init = next((c.__dict__["__init__"] for c in cls.__mro__
                 if inspect.isfunction(c.__dict__.get("__init__"))), None)
    if init is None:
        return None
    params = [p for p in inspect.signature(init).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)][1:]
    return params[0].name if params else None


def _key(cls: type[Refused], literal: str | None = None, *, by_keyword: bool = False) -> str:
    """The registry key of ``cls`` built with ``literal`` as its first argument (its code or
    reason) or as ``reason=`` (``by_keyword``); predicted when the class needs more."""
    attempts = ([lambda: cls(reason=literal), lambda: cls("", reason=literal)] if by_keyword
                else [lambda: cls(literal)] if literal is not None else [cls])
    for attempt in attempts:
        try:
            return attempt().reason_code
        except TypeError:
            continue
    if literal is not None and _first_parameter(cls) == "code":
        return cls.code_for(literal)
    return cls.code_for(cls.code, literal)


def _literal(call: ast.Call, cls: type[Refused]) -> tuple[str, bool] | None:
    """The literal reason (or code) of a call building ``cls``, and whether it is ``reason=``."""
    for keyword in call.keywords:
        if keyword.arg == "reason" and isinstance(keyword.value, ast.Constant):
            return keyword.value.value, True
    if call.args and _first_parameter(cls) in ("reason", "code") \
            and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value, False
    return None


def reason_codes() -> dict[str, str]:
    """Every registry key a refusal can have, with where it comes from."""
    sources = _sources()
    classes = _refusal_classes(sources)
    codes: dict[str, str] = {}
    for cls in classes:
        if cls.area == Refused.area:
            continue
        if cls.code != "refused" or not cls.REASONS:
            codes.setdefault(_key(cls), f"class {cls.__name__}")
        by_keyword = _first_parameter(cls) not in ("reason", "code")
        for reason in cls.REASONS:
            codes.setdefault(_key(cls, reason, by_keyword=by_keyword), f"{cls.__name__}.REASONS")
    for module, tree in sources:
        names = _names(module, tree, classes)
        for node in ast.walk(tree):
            cls = names.get(getattr(node.func, "id", "")) if isinstance(node, ast.Call) else None
            if cls is None or cls.area == Refused.area:
                continue
            found = _literal(node, cls)
            if found is not None:
                codes.setdefault(_key(cls, found[0], by_keyword=found[1]),
                                 f"{module}:{node.lineno}")
    return codes


def _stand_in(key: str) -> SimpleNamespace:
    """A refusal-like object with every value a sentence may show."""
    moment = datetime(2026, 3, 14, 10, 0, tzinfo=UTC)
    parts = key.split(".")
    reason = parts[2] if len(parts) > 2 else parts[1]
    return SimpleNamespace(
        area=parts[0], code=parts[1], reason=reason, location="choices[0]", basis="Art. 13",
        article="Art. 24", missing=("vards",), unexpected=(), line=3, where=None, when=moment,
        mark=SimpleNamespace(polling_station_id=None, marked_at=moment),
        params={"cutoff_at": moment, "latest": date(2026, 6, 1), "inform_by": moment,
                "day": date(2026, 3, 14), "ends_at": moment, "stations": [801],
                "field": "participants_at_last_election", "location": "proof", "index": 2,
                "until": date(2027, 1, 1)})


def test_the_code_finds_the_reasons_it_refuses_by():
    codes = reason_codes()
    for expected in ("case.stale", "messaging.unknown_person", "voting.ballot_refused.replay",
                     "voting.protocol_refused.same_member", "initiative.wrong_state",
                     "signature.already_signed", "etvr.already_voted",
                     "register_import.refused.wrong_header", "service_token.refused.unknown_owner",
                     "case.invalid_photo.too_many", "messaging.upload_too_large"):
        assert expected in codes, expected


def test_every_reason_a_service_can_raise_has_latvian_and_english_text(app):
    codes = reason_codes()
    missing = {key: where for key, where in codes.items() if key not in REGISTRY}
    assert not missing, f"refusal reasons without a text in portal.refusal_texts: {missing}"
    untranslated = {}
    with app.test_request_context():
        for key in codes:
            err = _stand_in(key)
            with force_locale("en"):
                english = REGISTRY[key].text(err)
            with force_locale("lv"):
                latvian = REGISTRY[key].text(err)
            assert english and latvian, key
            if english == latvian:
                untranslated[key] = english
    assert not untranslated, f"refusal texts without Latvian: {untranslated}"


def test_each_refusal_finds_its_own_sentence_not_the_generic_one(app):
    with app.test_request_context():
        generic = GENERIC.text(None)
        for key, reason in REGISTRY.items():
            assert reason.text(_stand_in(key)) != generic or key.endswith(
                ("refused", "not_on_voter_list", "unavailable")), key
            assert 400 <= reason.status < 500, key
