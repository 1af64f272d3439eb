"""Pluggable voter identity providers.

* ``oidc``: OpenID Connect (Authlib) against the national eID gateway; the personal code comes
  in a configured claim of the verified ID token / userinfo.
* ``otp``: the built-in one-time code for demos and tests. A real deployment would deliver the
  code by SMS; the demo shows it on screen (``OTP_SHOW_CODE_ON_SCREEN``), which production
  refuses to start with.
"""
from __future__ import annotations

import logging
from typing import Any

from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import current_app, flash
from flask_babel import gettext

from portal.accounts import services
from portal.accounts.models import User
from portal.web import clock, db, keys
from referendum_core import audit
from referendum_core.personal_code import InvalidPersonalCode

log = logging.getLogger(__name__)


def otp_enabled() -> bool:
    return "otp" in current_app.config["VOTER_IDENTITY_PROVIDERS"]


def oidc_enabled() -> bool:
    cfg = current_app.config
    return "oidc" in cfg["VOTER_IDENTITY_PROVIDERS"] and bool(cfg.get("OIDC_ISSUER"))


def deliver_one_time_code(personal_code: str, code: str) -> None:
    """Hand the code to the person. Demo: show it on the next page."""
    if current_app.config["OTP_SHOW_CODE_ON_SCREEN"]:
        flash(gettext("Demo sign-in: your one-time code is %(code)s. A real deployment sends it "
                      "by SMS.", code=code), "info")
    else:
        log.info("one-time code issued (delivery channel not configured)")


def get_oidc_client() -> Any:
    """The eID gateway client of this app (registered on first use from the configuration)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    oauth = app.extensions.get("portal_oauth")
    if oauth is None:
        cfg = app.config
        oauth = OAuth(app)
        oauth.register(
            "eid",
            client_id=cfg["OIDC_CLIENT_ID"],
            client_secret=cfg["OIDC_CLIENT_SECRET"],
            server_metadata_url=cfg["OIDC_ISSUER"].rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs={"scope": "openid profile"},
        )
        app.extensions["portal_oauth"] = oauth
    return oauth.create_client("eid")


def finish_oidc() -> User | None:
    """Complete the OpenID Connect flow and return the voter, or None on any failure."""
    client = get_oidc_client()
    try:
        token = client.authorize_access_token()
    except OAuthError as exc:
        log.warning("eID sign-in failed: %s", exc.error)
        return None
    claims = token.get("userinfo") or {}
    code = claims.get(current_app.config["OIDC_PERSONAL_CODE_CLAIM"])
    try:
        name = " ".join(p for p in (claims.get("given_name"), claims.get("family_name")) if p) or None
        user = services.find_or_create_voter(db(), clock(), keys(), code or "", name)
    except InvalidPersonalCode:
        audit.record(db(), clock(), None, "voter.oidc_bad_claim")
        return None
    return user
