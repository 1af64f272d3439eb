"""Voter sign-in through OpenID Connect providers, against the certified ``oidc-provider``
started locally (``tests/oidc_support.py``): the national authentication gateway (the method
comes back in ``amr`` and is kept with the voter's signature) and an eIDAS node (claims from the
userinfo endpoint), the required level of assurance, providers that are down, replays."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from portal.accounts.models import User
from referendum_core.audit import AuditEntry
from referendum_core.initiatives import Initiative
from referendum_core.signatures import Signature
from tests.conftest import municipality
from tests.oidc_support import authenticate, node_provider, provider_answer, require_node
from tests.register_data import add_person, code_for

BORN = date(1970, 1, 1)
ANNA, HANS, PETERIS = (code_for(BORN, serial) for serial in (1, 2, 3))
GATEWAY_LEVELS = tuple((f"urn:latvija:loa:{level}", level)
                       for level in ("low", "substantial", "high"))
GATEWAY_ACCOUNTS = {
    "anna-smart-id": {"acr": "urn:latvija:loa:substantial", "amr": ["smart_id"],
                      "claims": {"personal_code": ANNA, "given_name": "Anna",
                                 "family_name": "Bērziņa"}},
    "anna-eparaksts": {"acr": "urn:latvija:loa:high", "amr": ["eparaksts_mobile"],
                       "claims": {"personal_code": ANNA, "given_name": "Anna",
                                  "family_name": "Bērziņa"}},
    "peteris-password": {"acr": "urn:latvija:loa:low", "amr": ["pwd"],
                         "claims": {"personal_code": PETERIS, "given_name": "Pēteris"}},
    "bad-code": {"acr": "urn:latvija:loa:high", "amr": ["eid_card"],
                 "claims": {"personal_code": "161175-19998", "given_name": "Kļūda"}},
}
EIDAS = "http://eidas.europa.eu/LoA/"
EIDAS_ACCOUNTS = {
    # An EU citizen living in Latvia: the node matches them to their Latvian personal code.
    "hans-de": {"acr": f"{EIDAS}substantial", "amr": ["eidas_de"],
                "claims": {"personal_code": HANS, "given_name": "Hans",
                           "family_name": "Müller"}},
    "lena-fr": {"acr": f"{EIDAS}high", "amr": ["eidas_fr"],
                "claims": {"given_name": "Léna", "family_name": "Martin"}},
}


@pytest.fixture(scope="module")
def node():
    return require_node()


@pytest.fixture(scope="module")
def gateway(node):
    with node_provider(node, "latvija", "gateway", GATEWAY_ACCOUNTS,
                       acr_values=[v for v, _ in GATEWAY_LEVELS]) as provider:
        yield provider


@pytest.fixture(scope="module")
def eidas(node):
    # Claims only from the userinfo endpoint (the provider's default for the code flow).
    with node_provider(node, "eidas", "eidas", EIDAS_ACCOUNTS, claims_in_id_token=False,
                       acr_values=[f"{EIDAS}{lv}" for lv in ("low", "substantial", "high")]
                       ) as provider:
        yield provider


@pytest.fixture()
def app_overrides(gateway, eidas):
    gateway.proxy.down = eidas.proxy.down = False
    return {"VOTER_IDENTITY_PROVIDERS": ("oidc",),
            "OIDC_PROVIDERS": (gateway.settings(levels=GATEWAY_LEVELS), eidas.settings())}


def _refusals(db_session):
    return [e.detail_dict for e in db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "voter.oidc_refused"))]


def _signed_in(client):
    return client.get("/account").status_code == 200


def test_login_page_offers_each_provider(client):
    page = client.get("/voter/login").get_data(as_text=True)
    assert "/voter/eid/latvija" in page and "/voter/eid/eidas" in page
    assert "Latvija.lv: eParaksts mobile, Smart-ID, eID karte vai internetbanka" in page
    assert "Citas ES dalībvalsts eID (eIDAS)" in page and "personal_code" not in page  # no one-time code here


def test_voter_signs_in_through_the_gateway_with_smart_id(client, db_session, keys):
    response = authenticate(client, "latvija", "anna-smart-id")
    assert response.status_code == 302 and _signed_in(client), _refusals(db_session)
    voter = db_session.scalars(select(User).where(
        User.person_ref == keys.personal_codes.lookup_hash(ANNA))).one()
    assert voter.display_name == "Anna Bērziņa"
    entry = db_session.scalars(select(AuditEntry).where(
        AuditEntry.action == "login.success")).one()
    assert entry.detail_dict.items() >= {"method": "oidc:latvija", "provider": "latvija",
                                         "auth_method": "smart_id", "level": "substantial"}.items()


def test_an_eu_citizen_signs_in_through_the_eidas_node(client, db_session, keys):
    assert authenticate(client, "eidas", "hans-de").status_code == 302 and _signed_in(client)
    voter = db_session.scalars(select(User).where(
        User.person_ref == keys.personal_codes.lookup_hash(HANS))).one()
    assert voter.display_name == "Hans Müller"  # from the userinfo endpoint


def test_eidas_identity_without_latvian_personal_code_is_refused(client, db_session):
    response = authenticate(client, "eidas", "lena-fr")
    assert response.headers["Location"].endswith("/voter/login") and not _signed_in(client)
    page = client.get("/voter/login").get_data(as_text=True)
    assert "nedeva derīgu Latvijas personas kodu" in page
    assert [r["reason"] for r in _refusals(db_session)] == ["no_personal_code"]


def test_invalid_personal_code_claim_is_refused(client, db_session):
    authenticate(client, "latvija", "bad-code")
    assert not _signed_in(client)
    assert db_session.scalars(select(User).where(User.person_ref.is_not(None))).all() == []


def test_sign_in_below_the_required_level_is_refused_and_audited(client, db_session):
    response = authenticate(client, "latvija", "peteris-password")
    assert response.status_code == 302 and response.headers["Location"].endswith("/voter/login")
    assert not _signed_in(client)
    page = client.get("/voter/login").get_data(as_text=True)
    assert "uzticamības līmenis ir zems" in page and "vismaz būtisks" in page
    assert _refusals(db_session) == [{"provider": "latvija", "reason": "level_too_low",
                                      "level": "low", "claimed": "urn:latvija:loa:low",
                                      "required": "substantial"}]
    assert db_session.scalars(select(User).where(User.person_ref.is_not(None))).all() == []


def test_refusal_in_english(client):
    client.post("/lang/en")
    page = client.get("/voter/login").get_data(as_text=True)
    assert "eParaksts Mobile, Smart-ID, eID card or internet bank" in page
    authenticate(client, "latvija", "peteris-password")
    page = client.get("/voter/login").get_data(as_text=True)
    assert "level of assurance is low" in page and "at least the substantial level" in page


def test_required_level_is_configurable(app, client, gateway, eidas):
    app.config["OIDC_PROVIDERS"] = (gateway.settings(levels=GATEWAY_LEVELS,
                                                     minimum_level="high"), eidas.settings())
    authenticate(client, "latvija", "anna-smart-id")
    assert not _signed_in(client)
    assert authenticate(client, "latvija", "anna-eparaksts").status_code == 302
    assert _signed_in(client)


@pytest.mark.parametrize("path", ["form", "script"])
def test_the_method_is_recorded_with_the_initiative_signature(app, client, login_as, people,
                                                              db_session, keys, clock, path):
    """Signed by the form, or by the page's script with its signing token (the lean signing
    path, ``portal.initiatives.lean_sign``): the same claim is kept either way."""
    muni = municipality(db_session)
    muni.voters_at_last_election = 10
    add_person(db_session, keys.personal_codes, ANNA, born=BORN, municipality=muni)
    web = login_as(people.voter(ANNA, "Anna Bērziņa"))
    web.post("/initiatives/new", data={
        "municipality_id": muni.id, "subject": "strategy", "basis_date": "2026-02-01",
        "question": "Vai atbalstāt?", "reasons": "Tāpēc."})
    initiative = db_session.query(Initiative).one()
    web = login_as(people.chair())
    web.post(f"/initiatives/{initiative.id}/decide", data={
        "decision": "can", "question": "Vai atbalstāt?", "version": initiative.case.version})
    clock.set(datetime(2026, 3, 5, 8, tzinfo=UTC))
    from portal.initiatives.tasks import run_initiative_deadlines

    with app.app_context():
        run_initiative_deadlines.delay()

    client.post("/logout")
    authenticate(client, "latvija", "anna-eparaksts")
    if path == "form":
        assert client.post(f"/initiatives/{initiative.id}/sign").status_code == 302
    else:
        from prometheus_client import REGISTRY

        page = client.get(f"/initiatives/{initiative.id}").get_data(as_text=True)
        token = page.split('data-sign-token="', 1)[1].split('"', 1)[0]
        before = REGISTRY.get_sample_value("portal_lean_signatures_total") or 0.0
        answer = client.post(f"/initiatives/{initiative.id}/sign",
                             headers={"X-Sign-Token": token, "X-Requested-With": "fetch"})
        assert answer.status_code == 201
        assert REGISTRY.get_sample_value("portal_lean_signatures_total") == before + 1
    signature = db_session.scalars(select(Signature)).one()
    assert (signature.auth_provider, signature.auth_method, signature.auth_level) == (
        "latvija", "eparaksts_mobile", "high")
    signed = db_session.scalars(select(AuditEntry).where(
        AuditEntry.action == "signature.signed_online")).one()
    assert signed.detail_dict["auth_method"] == "eparaksts_mobile"


def test_provider_down_at_the_start_is_a_clear_message(app, client, gateway, db_session):
    app.config["OIDC_PROVIDERS"] = (gateway.settings(issuer="http://127.0.0.1:9"),)
    response = client.get("/voter/eid/latvija")
    assert response.status_code == 302 and response.headers["Location"].endswith("/voter/login")
    page = client.get("/voter/login").get_data(as_text=True)
    assert "pašlaik neatbild" in page
    assert [r["reason"] for r in _refusals(db_session)] == ["unavailable"]


def test_provider_going_down_before_the_token_is_a_clear_message(client, gateway, db_session):
    callback = provider_answer(client, "latvija", "anna-smart-id")
    gateway.proxy.down = True
    response = client.get(callback)
    assert response.status_code == 302 and not _signed_in(client)
    assert "pašlaik neatbild" in client.get("/voter/login").get_data(as_text=True)
    assert [r["reason"] for r in _refusals(db_session)] == ["unavailable"]


def test_replayed_authorisation_code_is_refused(client, gateway):
    callback = provider_answer(client, "latvija", "anna-smart-id")
    assert client.get(callback).status_code == 302 and _signed_in(client)
    client.post("/logout")
    again = client.get(callback)
    assert again.headers["Location"].endswith("/voter/login") and not _signed_in(client)


def test_forged_state_is_refused(client, db_session, gateway):
    client.get("/voter/eid/latvija")
    response = client.get("/voter/eid/latvija/callback", query_string={
        "code": "x", "state": "forged", "iss": gateway.issuer})
    assert response.headers["Location"].endswith("/voter/login") and not _signed_in(client)
    assert [r["reason"] for r in _refusals(db_session)] == ["failed"]


def test_sign_in_cancelled_at_the_provider_is_a_clear_message(client, db_session):
    client.get("/voter/eid/latvija")
    response = client.get("/voter/eid/latvija/callback?error=access_denied&state=x")
    assert response.headers["Location"].endswith("/voter/login") and not _signed_in(client)
    assert "netika pabeigta" in client.get("/voter/login").get_data(as_text=True)
    assert [r["problem"] for r in _refusals(db_session)] == ["access_denied"]


def test_provider_routes_absent_when_not_configured(app, client):
    assert client.get("/voter/eid/nobody").status_code == 404
    app.config["VOTER_IDENTITY_PROVIDERS"] = ("otp",)
    assert client.get("/voter/eid/latvija").status_code == 404
    assert "/voter/eid/" not in client.get("/voter/login").get_data(as_text=True)
