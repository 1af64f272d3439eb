"""The identity providers' settings (``OIDC_PROVIDERS``, ``OIDC_<NAME>_*``): parsing, the
levels of assurance, and the settings production refuses."""
from __future__ import annotations

import pytest

from portal.config import ConfigError, from_env
from portal.oidc_settings import OidcProvider, providers_from_env

GATEWAY = {"OIDC_PROVIDERS": "latvija, eidas", "OIDC_LATVIJA_ISSUER": "https://gw.example.lv",
           "OIDC_LATVIJA_CLIENT_ID": "portal", "OIDC_LATVIJA_CLIENT_SECRET": "from-the-vault",
           "OIDC_LATVIJA_METHOD_CLAIM": "acr",
           "OIDC_LATVIJA_LEVELS": "urn:lv:loa=2=substantial, urn:lv:loa=3=HIGH",
           "OIDC_EIDAS_ISSUER": "https://eidas.example.lv/", "OIDC_EIDAS_CLIENT_ID": "p",
           "OIDC_EIDAS_CLIENT_SECRET": "s", "OIDC_EIDAS_LABEL_EN": "EU eID"}


def test_providers_are_read_in_order_with_their_settings():
    gateway, eidas = providers_from_env(GATEWAY)
    assert (gateway.name, gateway.kind, gateway.method_claim) == ("latvija", "gateway", "acr")
    assert gateway.levels == (("urn:lv:loa=2", "substantial"), ("urn:lv:loa=3", "high"))
    assert (eidas.kind, eidas.issuer, eidas.label_en) == (
        "eidas", "https://eidas.example.lv/", "EU eID")  # the issuer exactly as given
    assert gateway.minimum_level == eidas.minimum_level == "substantial"
    assert providers_from_env({}) == ()


def test_levels_of_assurance():
    gateway, eidas = providers_from_env(GATEWAY | {"OIDC_EIDAS_MINIMUM_LEVEL": "high"})
    assert gateway.level_of("urn:lv:loa=3") == "high"
    assert gateway.level_of("http://eidas.europa.eu/LoA/low") == "low"
    assert gateway.level_of("urn:unknown") is None and gateway.level_of(["x"]) is None
    assert gateway.is_enough("substantial") and gateway.is_enough("high")
    assert not gateway.is_enough("low") and not gateway.is_enough(None)
    assert not eidas.is_enough("substantial") and eidas.is_enough("high")


def test_the_client_secret_stays_out_of_logs():
    gateway, _ = providers_from_env(GATEWAY)
    assert "from-the-vault" not in repr(gateway)


def test_incomplete_or_unsafe_providers_are_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_INSTANCE", str(tmp_path))
    with pytest.raises(ConfigError, match="OIDC_EIDAS_CLIENT_SECRET must be set"):
        from_env(GATEWAY | {"OIDC_EIDAS_CLIENT_SECRET": ""}).validate()
    with pytest.raises(ConfigError, match="OIDC_LATVIJA_LEVELS maps 'x' to 'medium'"):
        from_env(GATEWAY | {"OIDC_LATVIJA_LEVELS": "x=medium"}).validate()
    with pytest.raises(ConfigError, match="OIDC_LATVIJA_MINIMUM_LEVEL must be one of"):
        from_env(GATEWAY | {"OIDC_MINIMUM_LEVEL": "some"}).validate()
    with pytest.raises(ConfigError, match="'bad name!' is not a name"):
        from_env({"OIDC_PROVIDERS": "bad name!"}).validate()
    from_env(GATEWAY | {"OIDC_MINIMUM_LEVEL": "low",
                        "OIDC_LATVIJA_ISSUER": "http://127.0.0.1:9000"}).validate()


def test_production_needs_https_issuers_and_at_least_substantial():
    provider = OidcProvider(name="latvija", kind="gateway", issuer="http://gw", client_id="c",
                            client_secret="s", minimum_level="low")
    assert provider.problems(production=False) == []
    assert provider.problems(production=True) == [
        "OIDC_LATVIJA_ISSUER must be an https:// address in production",
        "OIDC_LATVIJA_MINIMUM_LEVEL must be at least substantial in production"]
