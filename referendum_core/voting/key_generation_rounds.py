"""The key generation's rounds against the chair's deadlines (``docs/spec/threshold-trustees.md``
section 2): which round takes messages now, who still owes one, and what opening the vote would
still wait for. Pure functions of the published transcript, the deadlines and the time.

A round opens when the round before it is complete (every trustee still in it has published)
or its deadline has passed, and closes at its own deadline. So a late trustee is never shut out
before its deadline by the others' going ahead, and nobody waits past a deadline for someone
who does not come: a trustee who misses the commit, reveal, check or answer deadline is
disqualified by the outcome (``dkg.evaluate``), as the protocol says.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from referendum_core.crypto import dkg
from referendum_core.crypto.dkg_messages import messages_by_index

ROUNDS = dkg.ROUNDS


def ordered_deadlines_problem(deadlines: Mapping[str, datetime | None], now: datetime,
                              last_allowed: datetime | None) -> str | None:
    """Why the chair's deadlines cannot be used (None when they can): each round needs one, in
    the future, each after the one before, and the last no later than ``last_allowed`` (when
    the online vote opens, Art. 15(1))."""
    values = [deadlines.get(r) for r in ROUNDS]
    if any(v is None for v in values):
        return "missing"
    if values[0] <= now:  # type: ignore[operator]
        return "past"
    if any(b <= a for a, b in zip(values, values[1:], strict=False)):  # type: ignore[operator]
        return "order"
    if last_allowed is not None and values[-1] > last_allowed:  # type: ignore[operator]
        return "after_opening"
    return None


def owing_by_round(transcript: Mapping[str, Any]) -> dict[str, list[int]]:
    """For each round, the trustees (1-based) who still owe its message: everyone still in the
    key generation who has not published it (one evaluation of the transcript for all)."""
    params = dkg.params_of(transcript)
    published = {r: messages_by_index(transcript, params, r) for r in ROUNDS}
    outcome = dkg.evaluate(transcript, final=False)
    return {
        "commit": [i for i in range(1, params.n + 1) if i not in published["commit"]],
        "reveal": [i for i in published["commit"] if i not in published["reveal"]],
        **{kind: [i for i in sorted(outcome.revealed) if i not in published[kind]]
           for kind in ("shares", "complaints")},
        "answers": sorted({i for j, against in outcome.complaints.items() for i in against
                           if i in outcome.revealed and (i, j) not in outcome.answers}),
    }


def owing(transcript: Mapping[str, Any], kind: str) -> list[int]:
    """The trustees (1-based) who still owe a message in round ``kind``."""
    return owing_by_round(transcript)[kind]


def _passed(deadline: datetime | None, now: datetime) -> bool:
    return deadline is not None and now >= deadline


def round_states(transcript: Mapping[str, Any], deadlines: Mapping[str, datetime | None],
                 now: datetime) -> dict[str, str]:
    """Each round's state: ``"waiting"`` (a round before it is still running), ``"open"`` or
    ``"closed"`` (its deadline has passed)."""
    owed = owing_by_round(transcript)
    states, earlier_done = {}, True
    for kind in ROUNDS:
        if _passed(deadlines.get(kind), now):
            states[kind] = "closed"
        else:
            states[kind] = "open" if earlier_done else "waiting"
        earlier_done = earlier_done and (_passed(deadlines.get(kind), now) or not owed[kind])
    return states


def round_state(transcript: Mapping[str, Any], deadlines: Mapping[str, datetime | None],
                kind: str, now: datetime) -> str:
    """Round ``kind``'s state (see :func:`round_states`)."""
    return round_states(transcript, deadlines, now)[kind]


def current_round(transcript: Mapping[str, Any], deadlines: Mapping[str, datetime | None],
                  now: datetime) -> str | None:
    """The round taking messages now: the last open one (None once the answers round closed)."""
    open_rounds = [r for r, state in round_states(transcript, deadlines, now).items()
                   if state == "open"]
    return open_rounds[-1] if open_rounds else None


def still_due(transcript: Mapping[str, Any], deadlines: Mapping[str, datetime | None],
              now: datetime) -> list[str]:
    """What opening the vote now would cut short: a check or an answer whose deadline has not
    passed (those trustees would be disqualified for not having done it yet)."""
    outcome = dkg.evaluate(transcript, final=False)
    waits = []
    if not _passed(deadlines.get("complaints"), now):
        waits += [f"trustee {j} has not checked its shares"
                  for j in sorted(outcome.revealed) if j not in outcome.complaints]
    if not _passed(deadlines.get("answers"), now):
        waits += [f"trustee {i} has not answered a complaint"
                  for i in owing_by_round(transcript)["answers"]]
    return waits
