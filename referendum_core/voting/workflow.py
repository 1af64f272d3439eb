"""The referendum case workflow (registered into the case registry when imported).

``scheduled`` is where the initiative module opens a referendum case (Art. 13(4)); the voting
services move it along: voting opens (manifest frozen), polls close (counting starts and the
3-working-day announcement deadline runs, Art. 20(9)-(10), 21), the commission approves and
announces the result.
"""
from __future__ import annotations

from referendum_core.cases.models import CaseType
from referendum_core.cases.workflows import (
    Party,
    State,
    Transition,
    Workflow,
    register,
)

C, CH, V, S = Party.COMMISSION, Party.CHAIR, Party.CVK, Party.SYSTEM
ANNOUNCEMENT_BASIS = "Art. 20(9)-(10), 21"

REFERENDUM_WORKFLOW = Workflow(
    case_type=CaseType.REFERENDUM,
    initial="scheduled",
    states=(
        State("scheduled", CH),
        State("voting", C, escalates=False),
        # The deadline is set by ``close_polls`` from referendum day (not from the move).
        State("counting", C),
        State("announced", CH, is_final=True),
        State("cancelled", CH, is_final=True),
    ),
    transitions=(
        Transition("open_voting", ("scheduled",), "voting", frozenset({CH, V, S}),
                   made_by="open_voting"),
        Transition("close_polls", ("voting",), "counting", frozenset({C, CH, V, S}),
                   made_by="close_polls"),
        Transition("approve_results", ("counting",), "announced", frozenset({CH}),
                   made_by="approve_results"),
        Transition("cancel", ("scheduled",), "cancelled", frozenset({CH, V}),
                   requires_note=True),
    ),
)


def ensure_registered() -> Workflow:
    """Register the referendum workflow (registering it again is harmless).

    Raises:
        ValueError: another module registered a different referendum workflow first.
    """
    return register(REFERENDUM_WORKFLOW)


ensure_registered()
