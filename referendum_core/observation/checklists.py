"""The polling-station checklists, declared as data in one place (as the case workflows are).

A ``Checklist`` has a version and three sections — opening, during the day, closing and
counting — each a tuple of ``Item``: a yes/no question (with the answer a regular station
gives, so that another one stands out) or a number (with its bounds and the ``tolerance``
within which two observers' numbers still agree: a queue seen a minute apart may differ a
little, the protocol's figures must match exactly). The web layer names the
sections and items in Latvian and English (``portal.observation.labels``); nothing here is
shown to people as is.

Versions are never edited once published: a new one is added to ``VERSIONS``. A referendum
pins the version in force when its first answer arrives (``services.pinned_version``), so the
answers of one referendum always belong to one list of questions.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from referendum_core.observation.exceptions import InvalidAnswer


class ItemKind(StrEnum):
    YES_NO = "yes_no"
    NUMBER = "number"


class Phase(StrEnum):
    OPENING = "opening"
    DURING = "during"
    CLOSING = "closing"


@dataclass(frozen=True)
class Item:
    """One question. ``expected`` is the yes/no answer of a regular station; numbers are
    whole numbers from ``minimum`` to ``maximum``, and two observers' numbers conflict when
    they differ by more than ``tolerance`` (0: any difference)."""

    key: str
    kind: ItemKind
    expected: bool | None = None
    minimum: int = 0
    maximum: int = 1_000_000
    tolerance: int = 0

    def check(self, value: bool | int) -> bool | int:
        """``value`` if it fits this item.

        Raises:
            InvalidAnswer: a number for a yes/no item or the other way round, or a number
                out of bounds.
        """
        if self.kind == ItemKind.YES_NO:
            if not isinstance(value, bool):
                raise InvalidAnswer(f"{self.key}: yes or no expected")
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidAnswer(f"{self.key}: a whole number expected")
        if not self.minimum <= value <= self.maximum:
            raise InvalidAnswer(f"{self.key}: out of range")
        return value

    def disagree(self, values: Collection[bool | int]) -> bool:
        """Do these observers' answers conflict (numbers further apart than ``tolerance``)?"""
        if self.kind == ItemKind.NUMBER:
            numbers = [int(v) for v in values]
            return bool(numbers) and max(numbers) - min(numbers) > self.tolerance
        return len(set(values)) > 1

    def is_irregular(self, value: bool | int) -> bool:
        """Does this answer differ from what a regular station gives?"""
        return self.kind == ItemKind.YES_NO and self.expected is not None and value != self.expected


@dataclass(frozen=True)
class Section:
    phase: Phase
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Checklist:
    version: int
    sections: tuple[Section, ...]

    def items(self) -> dict[str, Item]:
        """Every item of the list by key."""
        return {item.key: item for section in self.sections for item in section.items}

    def item(self, key: str) -> Item:
        """The item ``key``.

        Raises:
            InvalidAnswer: no such item in this version.
        """
        found = self.items().get(key)
        if found is None:
            raise InvalidAnswer(f"no item {key!r} in checklist version {self.version}")
        return found


def _yes(key: str) -> Item:
    return Item(key, ItemKind.YES_NO, expected=True)


def _number(key: str, maximum: int = 1_000_000, tolerance: int = 0) -> Item:
    return Item(key, ItemKind.NUMBER, maximum=maximum, tolerance=tolerance)


_OPENING = Section(Phase.OPENING, (
    _yes("seals_intact"), _yes("ballot_box_empty"), _yes("voter_lists_present"),
    _number("ballots_received")))
# Two observers count a moving queue at slightly different moments: up to 5 apart they agree.
QUEUE_TOLERANCE = 5
_DURING_V1 = (_number("queue_length", 10_000, tolerance=QUEUE_TOLERANCE), _yes("secrecy_ensured"), _yes("etvr_working"))
_CLOSING = Section(Phase.CLOSING, (
    _yes("envelopes_sealed"), _number("unused_ballots"), _number("protocol_voters"),
    _number("protocol_ballots_in_box")))

VERSIONS: dict[int, Checklist] = {
    1: Checklist(1, (_OPENING, Section(Phase.DURING, _DURING_V1), _CLOSING)),
    # Version 2 asks also whether observers could follow the whole day (Art. 18(3)).
    2: Checklist(2, (_OPENING, Section(Phase.DURING, (*_DURING_V1, _yes("observers_admitted"))),
                     _CLOSING)),
}
CURRENT_VERSION = max(VERSIONS)


def checklist(version: int) -> Checklist:
    """The published checklist ``version``.

    Raises:
        InvalidAnswer: no such version.
    """
    found = VERSIONS.get(version)
    if found is None:
        raise InvalidAnswer(f"no checklist version {version}")
    return found
