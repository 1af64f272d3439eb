"""The one family of domain refusals.

Every rule that says no raises a subclass of ``Refused``: the case, voting, initiative,
signature, ETVR, register-import, upload and messaging services each have their own branch.
A refusal names its rule in three parts, ``area`` (the service family), ``code`` (the rule)
and ``reason`` (which check of the rule, ``code`` when the rule has one check); together they
make ``reason_code`` (``voting.ballot_refused.replay``), the key of the portal's text registry
(``portal.refusal_texts``), which holds the Latvian and English sentence of each.

Services that audit a refusal do it in the caller's transaction just before raising; the
portal writes those entries again in a short transaction of their own after rolling the
request back (``portal.refusals``), so a refusal keeps its audit and nothing else. A refusal
whose rule needs more to outlast it (a failed sign-in's count, which is the brute-force
protection) declares those writes with ``keeping``: done by the service in the caller's
transaction as well, they are done again in that short transaction.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Self

from sqlalchemy.orm import Session

# A write a refusal keeps: done again, with the session, after the refused request's rollback.
Kept = Callable[[Session], object]


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
    # Writes that outlast the refusal (``keeping``).
    kept: tuple[Kept, ...] = ()

    @property
    def reason_code(self) -> str:
        """The key of the refusal's sentence in the portal's text registry."""
        return self.code_for(self.code, self.reason)

    def keeping(self, *writes: Kept) -> Self:
        """Declare ``writes`` (already done by the service in the caller's transaction) as
        ones the refusal keeps: after rolling the refused request back, the portal does them
        again in the short transaction that keeps the refusal's audit. Each is repeatable on a
        fresh transaction (a counter's ``n = n + 1``, never a value computed before) and
        audits what it writes under an action that does not name a refusal (those entries are
        kept already), so nothing is written twice."""
        self.kept = (*self.kept, *writes)
        return self

    @classmethod
    def code_for(cls, code: str, reason: str | None = None) -> str:
        """The registry key of a refusal of this area with ``code`` and ``reason``."""
        key = f"{cls.area}.{code}"
        return key if not reason or reason == code else f"{key}.{reason}"

    def answer_detail(self) -> dict[str, Any]:
        """Values, besides the sentence, that an answer may show (never personal data)."""
        return {}
