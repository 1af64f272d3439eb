"""Forged answers at the OpenID Connect callback cost the attacker nothing, but each refusal is
written to the audit log (and a start while a provider is slow holds a worker): refusals from
one address are limited, a person's own sign-ins are not counted."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from referendum_core.audit import AuditEntry
from tests.oidc_support import authenticate, node_provider, require_node
from tests.portal.accounts.test_oidc import GATEWAY_ACCOUNTS, GATEWAY_LEVELS

REFUSALS_PER_MINUTE = 10


@pytest.fixture(scope="module")
def gateway():
    with node_provider(require_node(), "latvija", "gateway", GATEWAY_ACCOUNTS,
                       acr_values=[v for v, _ in GATEWAY_LEVELS]) as provider:
        yield provider


@pytest.fixture()
def app_overrides(gateway):
    gateway.proxy.down = False
    return {"VOTER_IDENTITY_PROVIDERS": ("oidc",), "RATELIMIT_ENABLED": True,
            "OIDC_PROVIDERS": (gateway.settings(levels=GATEWAY_LEVELS),)}


def _refusals(db_session) -> int:
    return db_session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "voter.oidc_refused"))


def test_forged_answers_flooding_the_audit_log_are_limited(client, db_session, gateway):
    statuses = [client.get("/voter/eid/latvija/callback",
                           query_string={"code": "x", "state": f"forged-{n}",
                                         "iss": gateway.issuer}).status_code
                for n in range(REFUSALS_PER_MINUTE + 5)]
    assert statuses[:REFUSALS_PER_MINUTE] == [302] * REFUSALS_PER_MINUTE
    assert set(statuses[REFUSALS_PER_MINUTE:]) == {429}
    assert _refusals(db_session) == REFUSALS_PER_MINUTE


def test_starts_while_the_provider_is_down_are_limited(client, db_session, gateway):
    gateway.proxy.down = True
    statuses = [client.get("/voter/eid/latvija").status_code
                for _ in range(REFUSALS_PER_MINUTE + 2)]
    assert set(statuses[REFUSALS_PER_MINUTE:]) == {429}
    assert _refusals(db_session) == REFUSALS_PER_MINUTE


def test_sign_ins_that_succeed_are_not_counted(app, gateway):
    for _ in range(REFUSALS_PER_MINUTE + 2):
        browser = app.test_client()
        response = authenticate(browser, "latvija", "anna-smart-id")
        assert response.status_code == 302 and browser.get("/account").status_code == 200
