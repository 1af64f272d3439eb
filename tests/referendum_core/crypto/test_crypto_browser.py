"""ballot.js in headless Chromium: the shared vectors, and ballots crossing both ways.

The page is served with the portal's kind of CSP (no inline script; only 'wasm-unsafe-eval' so
libsodium's WebAssembly can compile) to prove the module needs nothing more.
"""

from __future__ import annotations

import copy
import functools
import json
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from referendum_core.crypto import group as g
from referendum_core.crypto.ballot import encrypt_ballot, verify_audited, verify_ballot
from referendum_core.crypto.manifest import context_from_manifest

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[3]
STATIC = ROOT / "portal" / "static"
DATA = json.loads((ROOT / "tests" / "vectors" / "election-record-v1.json").read_text("utf-8"))
CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; base-uri 'none'"
PAGE = b"""<!doctype html><html><head><meta charset="utf-8"><title>ballot.js</title>
<script src="/static/vendor/libsodium/libsodium-sumo.js"></script>
<script src="/static/vendor/libsodium/libsodium-wrappers.js"></script>
<script src="/static/js/ballot.js"></script></head><body>ballot.js test page</body></html>"""


class Handler(SimpleHTTPRequestHandler):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, directory=str(STATIC), **kwargs)

    def translate_path(self, path: str) -> str:
        return super().translate_path(path.removeprefix("/static"))

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        if self.path == "/test.html":
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(PAGE)
            return
        super().do_GET()

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", CSP)
        super().end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def page(browser: Any) -> Iterator[Any]:
    """ballot.js and libsodium loaded in Chromium (the session's browser from tests/conftest.py)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    errors: list[str] = []
    context = browser.new_context()
    try:
        pg = context.new_page()
        pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(f"http://127.0.0.1:{server.server_port}/test.html")
        pg.evaluate("() => RefBallot.ready")
        yield pg
        assert not [e for e in errors if "Content Security Policy" in e], errors
    finally:
        context.close()
        server.shutdown()
        server.server_close()


def canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def election(key: str) -> dict[str, Any]:
    e = DATA["elections"][key]
    return {"election_hash": e["election_hash"], "manifest": e["manifest"]}


def test_hash_vectors(page: Any) -> None:
    got = page.evaluate(
        """(cases) => cases.map(c => RefBallot.hashToScalar(c.tag, c.items.map(
            it => 'hex' in it ? sodium.from_hex(it.hex) : 'str' in it ? it.str : it.int)))""",
        DATA["hash_to_scalar"],
    )
    assert got == [c["scalar"] for c in DATA["hash_to_scalar"]]


@pytest.mark.parametrize("key", sorted(DATA["elections"]))
def test_ballot_vectors_reproduced_in_js(page: Any, key: str) -> None:
    ballots = DATA["elections"][key]["ballots"]
    got = page.evaluate(
        """([el, ballots]) => ballots.map(b => {
            const enc = RefBallot.encryptBallot(el, b.alias, b.plaintext, {randomness: b.randomness});
            return {ballot: enc.ballot, tracker: enc.tracker, audit: RefBallot.auditBallot(enc),
                    verified: RefBallot.verifyBallot(el, b.alias, b.ballot),
                    tracker2: RefBallot.tracker(el.election_hash, b.alias, b.ballot),
                    audited: RefBallot.verifyAudited(el, b.audit)};
        })""",
        [election(key), ballots],
    )
    for g_, b in zip(got, ballots, strict=True):
        assert canonical(g_["ballot"]) == canonical(b["ballot"])
        assert g_["tracker"] == g_["verified"] == g_["tracker2"] == b["tracker"]
        assert canonical(g_["audit"]) == canonical(b["audit"])
        assert g_["audited"] == {"tracker": b["tracker"], "plaintext": b["plaintext"]}


@pytest.mark.parametrize("key", sorted(DATA["elections"]))
def test_js_ballots_verify_in_python(page: Any, key: str) -> None:
    ctx = context_from_manifest(DATA["elections"][key]["manifest"])
    sels = [[1, 0], [0, 1]] if ctx.n_choices == 2 else [[0, 0, 0], [1, 0, 1], [0, 1, 0]]
    made = page.evaluate(
        """([el, sels]) => sels.map((s, i) => {
            const enc = RefBallot.encryptBallot(el, "browser-" + i, s);
            return {enc: enc, audit: RefBallot.auditBallot(enc)};
        })""",
        [election(key), sels],
    )
    for i, (m, sel) in enumerate(zip(made, sels, strict=True)):
        assert verify_ballot(ctx, f"browser-{i}", m["enc"]["ballot"]) == m["enc"]["tracker"]
        assert verify_audited(ctx, m["audit"]) == (m["enc"]["tracker"], sel)


def test_python_ballots_verify_in_js_and_mutations_fail(page: Any) -> None:
    ctx = context_from_manifest(DATA["elections"]["yes-no"]["manifest"])
    enc = encrypt_ballot(ctx, "py-voter", [0, 1])
    bad_proof = copy.deepcopy(enc.ballot)
    p = bad_proof["choices"][1]["proof"][1]
    p["challenge"], p["response"] = p["response"], p["challenge"]
    unreduced = copy.deepcopy(enc.ballot)
    unreduced["overall_proof"][0]["response"] = "ff" * 32
    identity = copy.deepcopy(enc.ballot)
    identity["choices"][0]["beta"] = "01" + "00" * 31
    other_alias = copy.deepcopy(enc.ballot)
    cases = [
        ("py-voter", enc.ballot),
        ("py-voter", bad_proof),
        ("py-voter", unreduced),
        ("py-voter", identity),
        ("someone-else", other_alias),
    ]
    got = page.evaluate(
        """([el, cases]) => cases.map(([alias, b]) => {
            try { return {ok: RefBallot.verifyBallot(el, alias, b)}; }
            catch (e) { return {error: e.kind || e.name, location: e.location}; }
        })""",
        [election("yes-no"), cases],
    )
    assert got[0] == {"ok": enc.tracker}
    assert got[1]["location"].startswith("choices[1].proof")
    assert got[2] == {"error": "InvalidScalar", "location": "overall_proof[0].response"}
    assert got[3] == {"error": "InvalidPoint", "location": "choices[0].beta"}
    assert got[4] == {"error": "InvalidBallot", "location": "alias"}


def test_reject_exact_failure_locations_match_python(page: Any) -> None:
    """The same mutation gives the same failure location in both implementations."""
    from referendum_core.crypto.exceptions import CryptoError

    ctx = context_from_manifest(DATA["elections"]["yes-no"]["manifest"])
    base = DATA["elections"]["yes-no"]["ballots"][0]
    muts = []
    for path in (
        ("choices", 0, "alpha"),
        ("choices", 1, "beta"),
        ("overall_proof", 0, "challenge"),
    ):
        b = copy.deepcopy(base["ballot"])
        obj = functools.reduce(lambda o, k: o[k], path[:-1], b)
        raw = bytearray(bytes.fromhex(obj[path[-1]]))
        raw[3] ^= 0x40
        obj[path[-1]] = raw.hex()
        muts.append(b)
    js = page.evaluate(
        """([el, alias, muts]) => muts.map(b => {
            try { RefBallot.verifyBallot(el, alias, b); return null; }
            catch (e) { return e.location; }
        })""",
        [election("yes-no"), base["alias"], muts],
    )
    py = []
    for b in muts:
        with pytest.raises(CryptoError) as err:
            verify_ballot(ctx, base["alias"], b)
        py.append(err.value.location)
    assert js == py


@pytest.mark.parametrize("key", sorted(DATA["elections"]))
def test_js_election_hash_matches_python(page: Any, key: str) -> None:
    """The verification page recomputes SHA-256(canonical(manifest)) as the spec defines it."""
    e = DATA["elections"][key]
    assert page.evaluate("(m) => RefBallot.electionHash(m)", e["manifest"]) == e["election_hash"]


def test_js_refuses_reused_randomness_where_python_does(page: Any) -> None:
    """Spec 9: alpha_0 == alpha_1 is refused by both implementations at the same location."""
    from referendum_core.crypto.exceptions import CryptoError

    ctx = context_from_manifest(DATA["elections"]["yes-no"]["manifest"])
    r = g.random_scalar()
    draws = iter([r, r])
    ballot = encrypt_ballot(ctx, "py-voter", [1, 0],
                            lambda: next(draws, None) or g.random_scalar()).ballot
    js = page.evaluate(
        """([el, b]) => { try { RefBallot.verifyBallot(el, "py-voter", b); return null; }
                         catch (e) { return [e.kind, e.location]; } }""",
        [election("yes-no"), ballot])
    with pytest.raises(CryptoError) as err:
        verify_ballot(ctx, "py-voter", ballot)
    assert js == ["InvalidBallot", err.value.location] == ["InvalidBallot", "choices[1].alpha"]


def test_js_opens_a_cast_ballot_with_its_randomness_as_python_does(page: Any) -> None:
    """Cast as intended: openCast reads m_k from the voter's randomness, and a beta swapped
    between choices is an error at randomness[0], as in ``open_with_randomness``."""
    ctx = context_from_manifest(DATA["elections"]["yes-no"]["manifest"])
    enc = encrypt_ballot(ctx, "py-voter", [0, 1])
    rs = [r.hex() for r in enc.randomness]
    swapped = copy.deepcopy(enc.ballot)
    c0, c1 = swapped["choices"]
    c0["beta"], c1["beta"] = c1["beta"], c0["beta"]
    got = page.evaluate(
        """([el, good, bad, rs]) => [good, bad].map(b => {
            try { return RefBallot.openCast(el, "py-voter", b, rs); }
            catch (e) { return {location: e.location}; } })""",
        [election("yes-no"), enc.ballot, swapped, rs])
    assert got[0] == {"tracker": enc.tracker, "plaintext": [0, 1]}
    assert got[1]["location"].startswith("choices[0]")  # the swap already breaks the proofs
