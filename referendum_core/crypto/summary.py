"""What a valid record says: the verifier's summary, and a voter's tracker lookup."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class TrackerStatus:
    """Where a voter's tracker was found and what became of that ballot."""

    tracker: str
    location: str = ""
    alias: str = ""
    status: str = "not found"  # counted | superseded | excluded | audited | not found
    #: With the voter's randomness: the ids of the choices the ballot selects (cast as intended).
    selected: list[str] | None = None
    #: With the voter's randomness: why it does not open the ballot, if it does not.
    opening_error: str = ""


@dataclass
class Summary:
    """What a valid record says."""

    election_id: str
    municipality: str
    election_hash: str
    trustees: int
    ballots_on_board: int
    audited: int
    voters: int
    superseded: int
    excluded_aliases: int
    excluded_on_board: int
    counted: int
    result: dict[str, int]
    board_head: str
    in_person: dict[str, Any] | None = None
    tracker: TrackerStatus | None = None
    witnessed_heads: int = 0  # heads (checkpoints, --expect-head) the board passes through
    threshold: Any = None  # threshold.ThresholdReport for t-of-n trustees

    def render(self) -> str:
        """Human-readable summary."""
        width = max(len(c) for c in self.result) if self.result else 0
        lines = [
            "Election record is VALID",
            f"  election             {self.election_id} (municipality {self.municipality})",
            f"  election hash        {self.election_hash}",
            f"  trustees             {self.trustees}",
            f"  ballots on board     {self.ballots_on_board}",
            f"  voters (aliases)     {self.voters}",
            f"  superseded (re-vote) {self.superseded}",
            f"  excluded (in person) {self.excluded_on_board} on the board"
            f" ({self.excluded_aliases} aliases listed)",
            f"  audited (not cast)   {self.audited}",
            f"  counted              {self.counted}",
            "  online result:",
        ]
        lines += [f"    {c:<{width}}  {n}" for c, n in self.result.items()]
        if self.in_person:
            counts = self.in_person.get("counts", {})
            lines.append("  in-person counts (from the commissions' protocols, not verified here):")
            for c, n in self.result.items():
                extra = counts.get(c, 0)
                lines.append(f"    {c:<{width}}  {extra}   combined {n + extra}")
        if self.threshold is not None:
            lines += self.threshold.render()
        lines.append(f"  board head           {self.board_head}")
        if self.witnessed_heads:
            lines.append(f"  witnessed heads      {self.witnessed_heads}, the board passes "
                         f"through each")
        if self.tracker is not None:
            t = self.tracker
            if t.status == "not found":
                lines.append(f"  tracker {t.tracker}: NOT FOUND")
            else:
                lines.append(f"  tracker {t.tracker}: found at {t.location} ({t.status})")
                if t.opening_error:
                    lines.append(
                        f"  YOUR RANDOMNESS DOES NOT OPEN THIS BALLOT: {t.opening_error}"
                    )
                if t.selected is not None:
                    lines.append(
                        "  opened with your randomness, the ballot selects: "
                        + (", ".join(t.selected) or "no choice")
                    )
        return "\n".join(lines)
