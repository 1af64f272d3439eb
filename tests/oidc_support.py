"""Real OpenID Connect providers for the tests: the certified ``oidc-provider`` npm package
(``tests/oidc_provider/server.mjs``) run by node, each behind a small HTTP proxy of ours.

The proxy passes everything through unchanged, except when a test arms it: then it rewrites
the ID token in the token endpoint's answer (a wrong ``iss``, ``aud`` or ``nonce``, an ``exp``
in the past) and signs it again with the provider's own key, so that only the claim under test
is wrong; or it answers 503 as a provider that has gone down. The provider itself is never
patched: what the portal accepts is what a certified implementation issues.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from portal.oidc_settings import OidcProvider

PROVIDER_DIR = Path(__file__).resolve().parent / "oidc_provider"
CLIENT_ID = "portal-test"
MIN_NODE = (20, 19)
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-encoding",
              "content-length", "te", "trailer", "upgrade"}


def require_node() -> str:
    """The node binary, with the provider's packages installed (``npm ci`` once, under a lock
    shared by parallel test workers); skips the test without node or npm."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("node and npm are needed to run the OpenID Connect provider "
                    "(tests/oidc_provider); install Node.js 20.19+ to run these tests")
    version = subprocess.run([node, "--version"], capture_output=True, text=True,  # noqa: S603
                             check=True).stdout.strip()
    if tuple(int(p) for p in version.lstrip("v").split(".")[:2]) < MIN_NODE:
        pytest.skip(f"oidc-provider needs Node.js 20.19 or newer; {node} is {version}")
    with open(PROVIDER_DIR / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
            subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],  # noqa: S603
                           cwd=PROVIDER_DIR, check=True, timeout=300)
    return node


class Proxy:
    """Forwards to the node provider; ``tamper`` rewrites the ID token's claims, ``down``
    answers every request with 503, ``delay`` holds every answer back."""

    def __init__(self) -> None:
        self.upstream = ""
        self.key: RSAKey | None = None
        self.tamper: Callable[[dict[str, Any]], dict[str, Any]] | None = None
        self.signing_key: RSAKey | None = None  # None: the provider's own key
        self.down = False
        self.delay = 0.0  # seconds every answer waits (a slow provider)
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def app(self, environ: dict[str, Any], start_response: Any) -> Any:
        incoming = Request(environ)
        time.sleep(self.delay)
        if self.down:
            return Response("provider down", status=503)(environ, start_response)
        headers = {k: v for k, v in incoming.headers.items() if k.lower() not in HOP_BY_HOP}
        answer = requests.request(
            incoming.method, self.upstream + incoming.full_path.rstrip("?"), headers=headers,
            data=incoming.get_data(), allow_redirects=False, timeout=30)
        body = answer.content
        if self.tamper and incoming.path == "/token" and answer.ok:
            body = self._rewrite(answer.json())
        response = Response(body, status=answer.status_code)
        for name in {k.lower() for k in answer.raw.headers}:
            if name not in HOP_BY_HOP:
                for value in answer.raw.headers.getlist(name):
                    response.headers.add(name, value)
        return response(environ, start_response)

    def _rewrite(self, token: dict[str, Any]) -> bytes:
        assert self.key is not None and self.tamper is not None
        decoded = jwt.decode(token["id_token"], self.key)
        claims = self.tamper(dict(decoded.claims))
        key = self.signing_key or self.key
        token["id_token"] = jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)
        return json.dumps(token).encode()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class NodeProvider:
    """One ``oidc-provider`` process (issuer: its proxy's address) with its accounts."""

    def __init__(self, node: str, name: str, kind: str, accounts: dict[str, Any], *,
                 acr_values: list[str], claims_in_id_token: bool = True) -> None:
        self.name, self.kind = name, kind
        self.client_secret = os.urandom(24).hex()
        self.proxy = Proxy()
        self.key = RSAKey.generate_key(2048, parameters={"kid": f"{name}-1", "use": "sig",
                                                         "alg": "RS256"})
        self.proxy.key = self.key
        self.issuer = self.proxy.url
        config = {
            "issuer": self.issuer, "port": 0,
            "jwks": {"keys": [self.key.as_dict(private=True)]},
            "client": {"client_id": CLIENT_ID, "client_secret": self.client_secret,
                       "redirect_uris": [f"http://localhost/voter/eid/{name}/callback"]},
            "acr_values": acr_values, "claims_in_id_token": claims_in_id_token,
            "accounts": accounts,
        }
        self.process = subprocess.Popen(  # noqa: S603 - the test's own script
            [node, "server.mjs"], cwd=PROVIDER_DIR, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True,
            env={**os.environ, "OIDC_TEST_CONFIG": json.dumps(config),
                 "NODE_ENV": "production"})
        line = self.process.stdout.readline() if self.process.stdout else ""
        if not line.startswith("listening "):
            self.close()
            raise RuntimeError(f"the OpenID Connect provider did not start: {line!r}")
        self.proxy.upstream = f"http://127.0.0.1:{int(line.split()[1])}"

    def settings(self, **changes: Any) -> OidcProvider:
        """The portal's configuration of this provider."""
        values: dict[str, Any] = {"name": self.name, "kind": self.kind, "issuer": self.issuer,
                                  "client_id": CLIENT_ID, "client_secret": self.client_secret}
        return OidcProvider(**(values | changes))

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.proxy.close()


@contextmanager
def node_provider(*args: Any, **kwargs: Any) -> Iterator[NodeProvider]:
    provider = NodeProvider(*args, **kwargs)
    try:
        yield provider
    finally:
        provider.close()


def authenticate(client: Any, provider: str, account: str) -> Any:
    """Go through the sign-in as a person would: from the portal's button to the provider,
    choose ``account`` there (standing for authenticating with its method), and bring the
    provider's answer back to the portal. Returns the portal's answer to the callback."""
    return client.get(provider_answer(client, provider, account))


def provider_answer(client: Any, provider: str, account: str) -> str:
    """The portal's callback URL (path and query) that the provider sends the browser back to
    after ``account`` authenticated."""
    to_provider = client.get(f"/voter/eid/{provider}")
    assert to_provider.status_code == 302, to_provider.get_data(as_text=True)
    browser = requests.Session()
    at = browser.get(to_provider.headers["Location"], allow_redirects=False, timeout=30)
    while at.status_code in (302, 303) and "/voter/eid/" not in at.headers["Location"]:
        target = requests.compat.urljoin(at.url, at.headers["Location"])
        if "/interaction/" in target:
            assert f'value="{account}"' in browser.get(target, timeout=30).text
            at = browser.post(target, data={"account": account}, allow_redirects=False,
                              timeout=30)
        else:
            at = browser.get(target, allow_redirects=False, timeout=30)
    assert at.status_code in (302, 303), at.text
    callback = urlsplit(at.headers["Location"])
    assert callback.path == f"/voter/eid/{provider}/callback", at.headers["Location"]
    return f"{callback.path}?{callback.query}"
