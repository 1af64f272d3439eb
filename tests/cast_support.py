"""Casting through HTTP in tests: the voting page's tokens, a cast request as the page's script
sends it, and what the lean cast path (``portal.voting.lean_cast``) answered."""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from referendum_core.voting.models import BoardEntry, Referendum


def page_tokens(client: Any, referendum_id: int) -> tuple[str, str]:
    """The CSRF token and the cast token the voting page gives its script."""
    html = client.get(f"/voting/{referendum_id}").get_data(as_text=True)
    csrf = html.split('data-csrf="', 1)[1].split('"', 1)[0]
    cast = html.split('data-cast-token="', 1)[1].split('"', 1)[0]
    assert cast, "the voting page gave no cast token"
    return csrf, cast


def cast_url(referendum_id: int) -> str:
    return f"/api/voting/{referendum_id}/ballots"


def post(client: Any, url: str, ballot: Any, csrf: str | None = None, cast: str | None = None,
         **kwargs: Any) -> Any:
    """POST ``ballot`` as the voting page's script does: JSON, with whichever of the CSRF and
    cast tokens is given."""
    headers = {"X-CSRFToken": csrf} if csrf else {}
    if cast:
        headers["X-Cast-Token"] = cast
    headers.update(kwargs.pop("headers", {}))
    data = ballot if isinstance(ballot, str | bytes) else json.dumps(ballot)
    return client.post(url, data=data, headers=headers,
                       content_type=kwargs.pop("content_type", "application/json"), **kwargs)


def lean_count() -> float:
    """``portal_lean_casts_total``: ballots the lean path accepted in this process."""
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("portal_lean_casts_total") or 0.0


def board_count(db_session: Any, referendum: Referendum) -> int:
    return db_session.scalar(select(func.count()).select_from(BoardEntry).where(
        BoardEntry.referendum_id == referendum.id))
