"""Pluggable voter identity providers.

* ``oidc``: OpenID Connect providers (``portal.accounts.oidc``): the national authentication
  gateway and eIDAS nodes; the personal code comes in a configured claim.
* ``otp``: the built-in one-time code for demos and tests. A real deployment would deliver the
  code by SMS; the demo shows it on screen (``OTP_SHOW_CODE_ON_SCREEN``), which production
  refuses to start with.
"""
from __future__ import annotations

import logging

from flask import current_app, flash
from flask_babel import gettext

log = logging.getLogger(__name__)


def otp_enabled() -> bool:
    return "otp" in current_app.config["VOTER_IDENTITY_PROVIDERS"]


def deliver_one_time_code(personal_code: str, code: str) -> None:
    """Hand the code to the person. Demo: show it on the next page."""
    if current_app.config["OTP_SHOW_CODE_ON_SCREEN"]:
        flash(gettext("Demo sign-in: your one-time code is %(code)s. A real deployment sends it "
                      "by SMS.", code=code), "info")
    else:
        log.info("one-time code issued (delivery channel not configured)")
