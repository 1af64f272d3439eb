"""Secrets are compared in constant time: a static scan of the source for ``==`` / ``!=`` on
anything named like a code, token, secret, password or MAC, plus checks that each verifier of
a secret goes through ``hmac.compare_digest`` (or ``secrets.compare_digest``)."""
from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("portal", "referendum_core", "messaging")
SECRETISH = re.compile(
    r"(^|_)(otp|totp|recovery|one_time|code_hash|token|secret|password|passwd|csrf|mac|"
    r"api_key|nonce|state_token)($|_)", re.IGNORECASE)
# Names that look secret-ish but are not secrets (each with the reason).
NOT_SECRET = {
    "token_id",  # a row id in URLs
    "token_hash",  # SQL: the lookup of a SHA-256 of a 256-bit random token (see test below)
    "status_code",
    "secret_election",  # the (public) election id a trustee's key file belongs to
}


def _is_length(node: ast.AST) -> bool:
    """``len(x)``: lengths of codes are public (they are fixed by the format)."""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
        node.func.id == "len"


def _names(node: ast.AST) -> list[str]:
    """Identifiers, attribute names and constant subscript keys in an expression."""
    found = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            found.append(sub.id)
        elif isinstance(sub, ast.Attribute):
            found.append(sub.attr)
        elif isinstance(sub, ast.Subscript) and isinstance(sub.slice, ast.Constant) and \
                isinstance(sub.slice.value, str):
            found.append(sub.slice.value)
    return found


def _suspicious_comparisons(root: Path = ROOT) -> list[str]:
    hits = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Compare):
                    continue
                if not any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops):
                    continue
                operands = [node.left, *node.comparators]
                if any(isinstance(o, ast.Constant) and o.value is None for o in operands):
                    continue
                if any(_is_length(o) for o in operands):
                    continue
                names = [n for o in operands for n in _names(o)]
                secret = [n for n in names if SECRETISH.search(n) and n not in NOT_SECRET]
                if secret:
                    rel = path.relative_to(root)
                    hits.append(f"{rel}:{node.lineno}: {ast.unparse(node)}")
    return hits


def test_no_secret_is_compared_with_equality_operators():
    hits = _suspicious_comparisons()
    assert not hits, "use hmac.compare_digest for secrets:\n" + "\n".join(hits)


def test_the_scan_would_catch_a_plain_comparison(tmp_path):
    """The scanner itself: a ``==`` on a one-time code is reported."""
    for package in PACKAGES:
        (tmp_path / package).mkdir()
    (tmp_path / "portal" / "bad.py").write_text("def check(pending, code):\n"
                                                "    return pending.code_hash == code\n")
    assert _suspicious_comparisons(tmp_path) == ["portal/bad.py:2: pending.code_hash == code"]


def _source(obj: object) -> str:
    return inspect.getsource(obj)  # type: ignore[arg-type]


@pytest.mark.parametrize("verifier", [
    "portal.accounts.services:_matching_step",  # TOTP codes
    "portal.accounts.services:_use_recovery_code",  # recovery codes
    "portal.accounts.services:redeem_one_time_code",  # voters' one-time codes
    "portal.ops.views:metrics_allowed",  # the metrics bearer token
])
def test_secret_verifiers_use_compare_digest(verifier):
    module_name, name = verifier.split(":")
    module = __import__(module_name, fromlist=[name])
    source = _source(getattr(module, name))
    assert "compare_digest(" in source, f"{verifier} does not use compare_digest"


def test_service_tokens_are_found_by_hash_not_by_comparing_plaintext():
    """The API token is looked up by the SHA-256 of a 256-bit random value: timing reveals at
    most a prefix of a hash of something unguessable, never the token itself."""
    from portal.cases import tokens

    source = _source(tokens.authenticate_token)
    assert "_hash(plaintext)" in source and "== plaintext" not in source
    assert "token_urlsafe(32)" in _source(tokens.issue_service_token)


def test_invitations_are_found_by_keyed_hash_of_a_random_token():
    """As service tokens: the link's token has 256 random bits and only its keyed hash is
    looked up, so timing reveals nothing an attacker could use."""
    from portal.accounts import services

    assert "keys.mac(INVITATION_PURPOSE" in _source(services.pending_invitation)
    assert "token_urlsafe(32)" in _source(services.invite)


def test_csrf_tokens_are_checked_in_constant_time():
    from flask_wtf import csrf

    assert "compare_digest" in _source(csrf.validate_csrf)


def test_passwords_are_verified_by_argon2():
    from portal.accounts import services

    assert "_hasher.verify(" in _source(services)
