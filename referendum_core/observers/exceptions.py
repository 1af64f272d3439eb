"""Refusals of the accreditation services; the portal turns ``reason`` into a sentence."""
from __future__ import annotations

from typing import Any

from referendum_core.refusals import Refused


class AccreditationRefused(Refused):
    """An accreditation request or decision breaks a rule. ``reason`` is one of ``REASONS``;
    ``article`` names the law's rule where there is one."""

    REASONS = ("station_limit", "not_initiator", "not_council_initiative", "kind_not_allowed",
               "wrong_station", "too_late", "name_required", "email_invalid", "too_long",
               "no_observers", "duplicate", "not_accreditation", "not_requested",
               "no_initiative", "bad_characters", "not_approved")

    area = "observers"
    code = "accreditation_refused"

    def __init__(self, reason: str, *, article: str | None = None, **params: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.article = article
        self.params = params
