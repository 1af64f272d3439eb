"""ID tokens the portal must not accept, each issued by the certified ``oidc-provider`` and then
changed in one claim by the test proxy (``tests/oidc_support.py``), signed again with the
provider's own key, so that nothing but the claim under test is wrong: a wrong ``iss``, ``aud``
(also the form Authlib alone lets through: a foreign audience with our ``azp``), ``nonce``, an
expired token, a signature by another key; and a provider answering as another issuer."""
from __future__ import annotations

import time
from datetime import date
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from joserfc.jwk import RSAKey
from sqlalchemy import select

from portal.accounts.models import User
from referendum_core.audit import AuditEntry
from tests.oidc_support import CLIENT_ID, node_provider, provider_answer, require_node
from tests.register_data import code_for

ACCOUNTS = {"anna": {"acr": "http://eidas.europa.eu/LoA/high", "amr": ["eid_card"],
                     "claims": {"personal_code": code_for(date(1970, 1, 1), 1),
                                "given_name": "Anna"}}}


@pytest.fixture(scope="module")
def gateway():
    with node_provider(require_node(), "latvija", "gateway", ACCOUNTS,
                       acr_values=["http://eidas.europa.eu/LoA/high"]) as provider:
        yield provider


@pytest.fixture()
def app_overrides(gateway):
    gateway.proxy.tamper = gateway.proxy.signing_key = None
    return {"VOTER_IDENTITY_PROVIDERS": ("oidc",), "OIDC_PROVIDERS": (gateway.settings(),)}


def _refused(client, db_session, callback: str) -> list[dict]:
    response = client.get(callback)
    assert response.status_code == 302 and response.headers["Location"].endswith("/voter/login")
    assert client.get("/account").status_code == 302  # not signed in
    assert db_session.scalars(select(User).where(User.person_ref.is_not(None))).all() == []
    page = client.get("/voter/login").get_data(as_text=True)
    assert "atbildi neizdevās pārbaudīt" in page
    return [e.detail_dict for e in db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "voter.oidc_refused"))]


def test_a_token_signed_again_unchanged_is_accepted(client, gateway):
    """The proxy's re-signing is sound: the refusals below come from the claim changed."""
    gateway.proxy.tamper = lambda claims: claims
    assert client.get(provider_answer(client, "latvija", "anna")).status_code == 302
    assert client.get("/account").status_code == 200


def _expired(claims):
    now = int(time.time())
    return claims | {"iat": now - 7200, "exp": now - 3600}


def _foreign_audience_for_us(claims):
    return claims | {"aud": ["another-relying-party"], "azp": CLIENT_ID}


@pytest.mark.parametrize(("tamper", "problem", "claim"), [
    pytest.param(lambda c: c | {"iss": "http://127.0.0.1:1"}, "invalid_claim", "iss",
                 id="wrong-iss"),
    pytest.param(lambda c: c | {"aud": "another-relying-party"}, "invalid_claim", "aud",
                 id="wrong-aud"),
    pytest.param(_foreign_audience_for_us, "invalid_claim", "aud",
                 id="foreign-aud-with-our-azp"),
    pytest.param(lambda c: c | {"nonce": "a-nonce-of-another-sign-in"}, "invalid_claim",
                 "nonce", id="wrong-nonce"),
    pytest.param(lambda c: {k: v for k, v in c.items() if k != "nonce"}, "missing_claim",
                 "nonce", id="no-nonce"),
    pytest.param(_expired, "expired_token", "exp", id="expired"),
])
def test_a_token_with_a_wrong_claim_is_refused(client, db_session, gateway, tamper, problem,
                                               claim):
    gateway.proxy.tamper = tamper
    refusals = _refused(client, db_session, provider_answer(client, "latvija", "anna"))
    assert refusals == [{"provider": "latvija", "reason": "invalid_token", "problem": problem,
                         "claim": claim}]


def test_a_token_signed_by_another_key_is_refused(client, db_session, gateway):
    gateway.proxy.tamper = lambda claims: claims
    gateway.proxy.signing_key = RSAKey.generate_key(2048, parameters={"kid": gateway.key.kid})
    refusals = _refused(client, db_session, provider_answer(client, "latvija", "anna"))
    assert [r["reason"] for r in refusals] == ["invalid_token"]


def test_an_authorisation_response_from_another_issuer_is_refused(client, db_session):
    """RFC 9207: the provider names itself in the answer; another name is a mix-up."""
    callback = urlsplit(provider_answer(client, "latvija", "anna"))
    query = dict(parse_qsl(callback.query)) | {"iss": "http://127.0.0.1:1"}
    refusals = _refused(client, db_session, f"{callback.path}?{urlencode(query)}")
    assert refusals[0]["problem"] == "authorization response iss"


def test_a_provider_answering_as_another_issuer_is_refused(app, client, db_session, gateway):
    """OpenID Connect Discovery 4.3: the discovered issuer is exactly the configured one."""
    app.config["OIDC_PROVIDERS"] = (gateway.settings(issuer=gateway.issuer + "/"),)
    response = client.get("/voter/eid/latvija")
    assert response.status_code == 302 and response.headers["Location"].endswith("/voter/login")
    assert "atbildi neizdevās pārbaudīt" in client.get("/voter/login").get_data(as_text=True)
    entry = db_session.scalars(select(AuditEntry).where(
        AuditEntry.action == "voter.oidc_refused")).one()
    assert entry.detail_dict["problem"] == "discovery issuer"
