"""Voter sign-in through OpenID Connect (the national eID gateway), against a real local provider
that signs ID tokens with RS256 and publishes its keys."""
from __future__ import annotations

import threading
import time
from urllib.parse import urlencode, urlsplit

import pytest
import requests
from authlib.jose import JsonWebKey, jwt
from flask import Flask, jsonify, redirect, request
from sqlalchemy import select
from werkzeug.serving import make_server

from portal.accounts.models import User


class FakeEidGateway:
    """Just enough of an OpenID Connect provider: discovery, authorize, token, JWKS."""

    def __init__(self, personal_code: str = "161175-19997") -> None:
        self.key = JsonWebKey.generate_key("RSA", 2048, is_private=True, options={"kid": "k1"})
        self.personal_code = personal_code
        self.codes: dict[str, str] = {}
        app = Flask("fake-eid")
        app.add_url_rule("/.well-known/openid-configuration", view_func=self.discovery)
        app.add_url_rule("/authorize", view_func=self.authorize)
        app.add_url_rule("/token", view_func=self.token, methods=["POST"])
        app.add_url_rule("/jwks", view_func=self.jwks)
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def discovery(self):
        return jsonify({"issuer": self.url, "authorization_endpoint": f"{self.url}/authorize",
                        "token_endpoint": f"{self.url}/token", "jwks_uri": f"{self.url}/jwks",
                        "response_types_supported": ["code"], "subject_types_supported": ["public"],
                        "id_token_signing_alg_values_supported": ["RS256"]})

    def authorize(self):
        code = f"code-{len(self.codes)}"
        self.codes[code] = request.args.get("nonce", "")
        query = urlencode({"code": code, "state": request.args["state"]})
        return redirect(f"{request.args['redirect_uri']}?{query}")

    def token(self):
        nonce = self.codes.pop(request.form["code"], None)
        if nonce is None:
            return jsonify({"error": "invalid_grant"}), 400
        now = int(time.time())
        claims = {"iss": self.url, "sub": "eid-subject-1", "aud": "portal", "iat": now,
                  "exp": now + 300, "nonce": nonce, "given_name": "Anna", "family_name": "Bērziņa",
                  "personal_code": self.personal_code}
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, self.key).decode()
        return jsonify({"access_token": "at", "token_type": "Bearer", "expires_in": 300,
                        "id_token": id_token})

    def jwks(self):
        return jsonify({"keys": [self.key.as_dict(is_private=False)]})

    def close(self):
        self.server.shutdown()


@pytest.fixture()
def gateway():
    gw = FakeEidGateway()
    yield gw
    gw.close()


@pytest.fixture()
def app_overrides(gateway):
    return {"VOTER_IDENTITY_PROVIDERS": ("oidc",), "OIDC_ISSUER": gateway.url,
            "OIDC_CLIENT_ID": "portal", "OIDC_CLIENT_SECRET": "client-secret"}


def _follow_provider(client, start="/voter/eid"):
    to_provider = client.get(start)
    assert to_provider.status_code == 302
    back = requests.get(to_provider.headers["Location"], allow_redirects=False, timeout=10)
    callback = urlsplit(back.headers["Location"])
    assert callback.path == "/voter/eid/callback"
    return client.get(f"{callback.path}?{callback.query}")


def test_voter_signs_in_through_the_eid_gateway(client, db_session):
    page = client.get("/voter/login").get_data(as_text=True)
    assert "/voter/eid" in page and "personal_code" not in page  # otp turned off here
    response = _follow_provider(client)
    assert response.status_code == 302
    assert client.get("/account").status_code == 200
    voter = db_session.scalars(select(User).where(User.person_ref.is_not(None))).one()
    assert voter.display_name == "Anna Bērziņa"


def test_replayed_authorisation_code_is_refused(client, gateway):
    to_provider = client.get("/voter/eid")
    back = requests.get(to_provider.headers["Location"], allow_redirects=False, timeout=10)
    callback = urlsplit(back.headers["Location"])
    assert client.get(f"{callback.path}?{callback.query}").status_code == 302
    client.post("/logout")
    response = client.get(f"{callback.path}?{callback.query}")
    assert response.status_code == 302 and response.headers["Location"].endswith("/voter/login")
    assert client.get("/account").status_code == 302


def test_forged_state_is_refused(client):
    client.get("/voter/eid")
    response = client.get("/voter/eid/callback?code=code-0&state=forged")
    assert response.headers["Location"].endswith("/voter/login")
    assert client.get("/account").status_code == 302


def test_invalid_personal_code_claim_is_refused(client, gateway, db_session):
    gateway.personal_code = "161175-19998"
    response = _follow_provider(client)
    assert response.headers["Location"].endswith("/voter/login")
    assert db_session.scalars(select(User).where(User.person_ref.is_not(None))).all() == []


def test_eid_routes_absent_when_not_configured(app, client):
    app.config["VOTER_IDENTITY_PROVIDERS"] = ("otp",)
    assert client.get("/voter/eid").status_code == 404


