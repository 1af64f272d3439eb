"""The one family of domain refusals.

Every rule that says no raises a subclass of ``Refused``: the case, voting, initiative,
signature, ETVR, register-import, upload and messaging services each have their own branch.
A refusal names its rule in three parts, ``area`` (the service family), ``code`` (the rule)
and ``reason`` (which check of the rule, ``code`` when the rule has one check); together they
make ``reason_code`` (``voting.ballot_refused.replay``), the key of the portal's text registry
(``portal.refusal_texts``), which holds the Latvian and English sentence of each.

Services that audit a refusal do it in the caller's transaction just before raising; the
portal writes those entries again in a short transaction of their own after rolling the
request back (``portal.refusals``), so a refusal keeps its audit and nothing else.
"""
from __future__ import annotations

from typing import Any, ClassVar


class Refused(Exception):
    """Base class of every refusal by a domain rule."""

    area: ClassVar[str] = "refused"
    code: str = "refused"
    # Which check of the rule refused; None (or ``code``) when the rule has one check.
    reason: str | None = None
    # Every ``reason`` a subclass may carry besides ``code`` (for the text registry's test).
    REASONS: ClassVar[tuple[str, ...]] = ()
    # False when the refusal came from the database (a failed flush), so its audit could not be
    # written in the transaction the portal rolls back: the portal then audits it afterwards
    # as ``<area>.refused``.
    is_audited: bool = True

    @property
    def reason_code(self) -> str:
        """The key of the refusal's sentence in the portal's text registry."""
        return self.code_for(self.code, self.reason)

    @classmethod
    def code_for(cls, code: str, reason: str | None = None) -> str:
        """The registry key of a refusal of this area with ``code`` and ``reason``."""
        key = f"{cls.area}.{code}"
        return key if not reason or reason == code else f"{key}.{reason}"

    def answer_detail(self) -> dict[str, Any]:
        """Values, besides the sentence, that an answer may show (never personal data)."""
        return {}
