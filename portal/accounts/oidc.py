"""Voter sign-in through OpenID Connect providers (``portal.oidc_settings``): the national
authentication gateway (eParaksts Mobile, Smart-ID, eID card, bank links) and eIDAS nodes.

Authlib runs the authorisation code flow with PKCE (S256), ``state`` and ``nonce`` and verifies
the ID token's signature against the provider's published keys. On top of that this module
checks what Authlib leaves to the client: the discovered issuer is the configured one, the ID
token names the portal in ``aud`` (Authlib alone accepts any audience with a matching ``azp``),
the authorisation response's ``iss`` (RFC 9207) names the provider (and is there when the
provider advertises it), the claimed level of assurance reaches the required one, and a
personal code links the person to the register.
Every refusal is audited and answered, through the portal's one refusal pipeline
(``portal.refusals``), with the registry's translated sentence, never a server error.
"""
from __future__ import annotations

import logging
import unicodedata
from typing import Any

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import current_app, request
from flask_babel import get_locale, gettext
from joserfc.errors import JoseError

from portal.accounts import services
from portal.accounts.models import User
from portal.oidc_settings import OidcProvider
from portal.web import audit_context, clock, db, keys
from referendum_core import audit
from referendum_core.personal_code import InvalidPersonalCode
from referendum_core.refusals import Refused
from referendum_core.signatures import Authentication

log = logging.getLogger(__name__)

DISCOVERY_PATH = "/.well-known/openid-configuration"


class SignInRefused(Refused):
    """A provider sign-in that did not sign anyone in; ``reason`` names why (its sentence is
    the text registry's, ``voter_sign_in.refused.<reason>``)."""

    area, code = "voter_sign_in", "refused"
    REASONS = ("unavailable", "level_too_low", "no_personal_code", "invalid_token", "failed")

    def __init__(self, provider: OidcProvider, reason: str, **params: Any) -> None:
        super().__init__(f"{getattr(provider, 'name', provider)}: {reason}")
        self.provider, self.reason, self.params = provider, reason, params


def enabled_providers() -> tuple[OidcProvider, ...]:
    """The OpenID Connect providers voters may choose from (none unless ``oidc`` is on)."""
    cfg = current_app.config
    if "oidc" not in cfg["VOTER_IDENTITY_PROVIDERS"]:
        return ()
    return tuple(cfg["OIDC_PROVIDERS"])


def provider_named(name: str) -> OidcProvider | None:
    """The enabled provider called ``name``, if any."""
    return next((p for p in enabled_providers() if p.name == name), None)


def label(provider: OidcProvider) -> str:
    """The provider's name for people, in the page's language."""
    configured = provider.label_en if str(get_locale()) == "en" else provider.label_lv
    if configured:
        return configured
    if provider.kind == "eidas":
        return gettext("eID of another EU member state (eIDAS)")
    return gettext("Latvija.lv: eParaksts Mobile, Smart-ID, eID card or internet bank")


def level_name(level: str | None) -> str:
    """An eIDAS level of assurance, translated."""
    names = {"low": gettext("low"), "substantial": gettext("substantial"),
             "high": gettext("high")}
    return names.get(level or "", gettext("not stated"))


def _client(provider: OidcProvider) -> Any:
    """The provider's Authlib client of this app (registered on first use, and again under a
    new name when the provider's settings change)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    clients = app.extensions.setdefault("portal_oidc_clients", {})
    if provider not in clients:
        oauth = app.extensions.get("portal_oauth")
        if oauth is None:
            oauth = app.extensions["portal_oauth"] = OAuth(app)
        clients[provider] = oauth.register(
            f"{provider.name}-{len(clients)}", client_id=provider.client_id,
            client_secret=provider.client_secret,
            server_metadata_url=provider.issuer.rstrip("/") + DISCOVERY_PATH,
            client_kwargs={"scope": provider.scope, "code_challenge_method": "S256",
                           "default_timeout": app.config["OIDC_TIMEOUT"]})
    return clients[provider]


def _refuse(provider: OidcProvider, reason: str, **detail: Any) -> SignInRefused:
    """Audit a refused sign-in and return the exception to raise."""
    audit.record(db(), clock(), None, "voter.oidc_refused", context=audit_context(),
                 provider=provider.name, reason=reason, **detail)
    return SignInRefused(provider, reason, **detail)


def _metadata(provider: OidcProvider) -> dict[str, Any]:
    """The provider's discovery document, whose ``issuer`` must be the configured one
    (OpenID Connect Discovery 4.3).

    Raises:
        SignInRefused: the provider does not answer, or answers as someone else.
    """
    client = _client(provider)
    try:
        metadata = client.load_server_metadata()
    except (requests.RequestException, ValueError) as err:
        log.warning("identity provider %s unavailable: %s", provider.name, type(err).__name__)
        raise _refuse(provider, "unavailable") from None
    if metadata.get("issuer") != provider.issuer:
        client.server_metadata.clear()  # ask again next time
        raise _refuse(provider, "invalid_token", problem="discovery issuer")
    return metadata


def begin_sign_in(provider: OidcProvider, redirect_uri: str) -> Any:
    """The redirect to the provider's authentication page.

    Raises:
        SignInRefused: the provider does not answer.
    """
    _metadata(provider)
    extra = {"acr_values": provider.acr_values} if provider.acr_values else {}
    try:
        return _client(provider).authorize_redirect(redirect_uri, **extra)
    except (requests.RequestException, ValueError):
        raise _refuse(provider, "unavailable") from None


def _token(provider: OidcProvider, metadata: dict[str, Any]) -> dict[str, Any]:
    """Exchange the authorisation code and verify the ID token. A provider that says it names
    itself in its answers (RFC 9207 2.4) must do so: a code without ``iss`` is refused (an error
    answer signs nobody in, whatever it names)."""
    issuer = request.args.get("iss")
    if (issuer is None and "code" in request.args
            and metadata.get("authorization_response_iss_parameter_supported")):
        raise _refuse(provider, "invalid_token", problem="authorization response without iss")
    if issuer is not None and issuer != provider.issuer:
        raise _refuse(provider, "invalid_token", problem="authorization response iss")
    client = _client(provider)
    options = {"iss": {"essential": True, "value": provider.issuer},
               "aud": {"essential": True, "value": provider.client_id},
               "exp": {"essential": True}, "nonce": {"essential": True}}
    try:
        token = client.authorize_access_token(claims_options=options)
    except OAuthError as err:
        raise _refuse(provider, "failed", problem=err.error) from None
    except JoseError as err:
        raise _refuse(provider, "invalid_token", problem=err.error,
                      claim=getattr(err, "claim", None)) from None
    except (requests.RequestException, ValueError):
        raise _refuse(provider, "unavailable") from None
    if not token.get("userinfo"):
        raise _refuse(provider, "invalid_token", problem="no id_token")
    return token


def _claims(provider: OidcProvider, token: dict[str, Any]) -> dict[str, Any]:
    """The ID token's claims, completed from the userinfo endpoint when the personal code is
    not in the token (the ``sub`` of both must agree, OpenID Connect Core 5.3.2)."""
    claims = dict(token["userinfo"])
    if provider.personal_code_claim in claims:
        return claims
    if not _client(provider).load_server_metadata().get("userinfo_endpoint"):
        return claims
    try:
        extra = _client(provider).userinfo(token=token)
    except (requests.RequestException, ValueError, OAuthError):
        raise _refuse(provider, "unavailable") from None
    if extra.get("sub") != claims.get("sub"):
        raise _refuse(provider, "invalid_token", problem="userinfo sub")
    return {**extra, **claims}


def _method(value: object) -> str | None:
    """The authentication method claim as recorded (``amr`` is a list of names)."""
    if isinstance(value, list):
        return "+".join(str(v) for v in value) or None
    return str(value) if value else None


#: the longest name kept (``User.display_name``)
NAME_LENGTH = 200


def _display_name(*parts: object) -> str:
    """The person's name from the provider's name claims, whatever their shape: strings or
    lists of strings, control and format characters (a right-to-left override) dropped, the
    spaces collapsed, cut to the column's length. The person is identified by the personal
    code; the name is only shown."""
    words: list[str] = []
    for part in parts:
        for item in part if isinstance(part, list) else [part]:
            if isinstance(item, str):
                text = "".join(c if unicodedata.category(c)[0] != "C" else " " for c in item)
                words += text.split()
    return " ".join(words)[:NAME_LENGTH].strip()


def finish_sign_in(provider: OidcProvider) -> tuple[User, Authentication]:
    """Complete the provider's answer: the voter and how they authenticated.

    Raises:
        SignInRefused: any failure (audited): the provider's error or silence, a token that
            does not verify, a level of assurance below the required one, no personal code.
    """
    claims = _claims(provider, _token(provider, _metadata(provider)))
    claimed = claims.get(provider.level_claim)
    level = provider.level_of(claimed)
    if not provider.is_enough(level):
        raise _refuse(provider, "level_too_low", level=level, claimed=str(claimed)[:100],
                      required=provider.minimum_level)
    method = _method(claims.get(provider.method_claim))
    name = _display_name(claims.get("given_name"), claims.get("family_name"))
    try:
        user = services.find_or_create_voter(db(), clock(), keys(),
                                             str(claims.get(provider.personal_code_claim) or ""),
                                             name or None)
    except InvalidPersonalCode:
        raise _refuse(provider, "no_personal_code") from None
    return user, Authentication(provider=provider.name, method=method, level=level)
