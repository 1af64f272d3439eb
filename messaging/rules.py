"""Who may talk to whom, and who may read a thread. Pure functions over plain descriptions.

Starting a thread:
- CVK (officers and administrators) may start a thread with anyone;
- a municipal commission's members with CVK, with their own commission and with the observers
  accredited to their municipality;
- an observer with the commission of the municipality they observe and with CVK;
- a voter only with a municipal commission (an enquiry): their own municipality's when the
  caller knows it (``Standing.voter_municipality_ids``), otherwise the one they name.

Reading: only participants — a person added by name, or a member of a participating group.
CVK administrators are never in a group: they read a thread only when added in person.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from messaging.directory import (
    COMMISSION_ROLES,
    CVK_ADMIN,
    CVK_ROLES,
    OBSERVER,
    membership_groups,
)


@dataclass(frozen=True)
class Standing:
    """A person's position for the messaging rules."""

    user_id: int | None = None
    is_cvk: bool = False
    is_cvk_admin: bool = False
    commission_municipality_ids: frozenset[int] = frozenset()
    observer_municipality_ids: frozenset[int] = frozenset()
    is_voter: bool = False
    # Where the voter is registered; None = not known to the caller.
    voter_municipality_ids: frozenset[int] | None = None

    @property
    def is_official(self) -> bool:
        return self.is_cvk or bool(self.commission_municipality_ids)


def standing_of(user: Any, voter_municipality_ids: Iterable[int] | None = None) -> Standing:
    """Describe a portal user (duck-typed: ``id``, ``memberships``, ``person_ref``)."""
    roles = {str(m.role) for m in getattr(user, "memberships", ())}
    commission_munis, observer_munis = set(), set()
    for m in getattr(user, "memberships", ()):
        role = str(m.role)
        muni = getattr(m, "scope_municipality_id", None)
        if role in COMMISSION_ROLES and muni is not None:
            commission_munis.add(muni)
        elif role == OBSERVER and muni is not None:
            observer_munis.add(muni)
    return Standing(
        user_id=getattr(user, "id", None),
        is_cvk=bool(roles & CVK_ROLES),
        is_cvk_admin=CVK_ADMIN in roles,
        commission_municipality_ids=frozenset(commission_munis),
        observer_municipality_ids=frozenset(observer_munis),
        is_voter=bool(getattr(user, "person_ref", None)),
        voter_municipality_ids=(frozenset(voter_municipality_ids)
                                if voter_municipality_ids is not None else None),
    )


class TargetKind(StrEnum):
    CVK = "cvk"  # the CVK officers group
    COMMISSION = "commission"  # a municipal election commission (all its members)
    PERSON = "person"


@dataclass(frozen=True)
class Target:
    """Whom a thread is started with."""

    kind: TargetKind
    municipality_id: int | None = None  # COMMISSION
    user_id: int | None = None  # PERSON
    person: Standing = field(default_factory=Standing)  # PERSON: their standing


def may_start_thread(starter: Standing, target: Target) -> bool:
    """May ``starter`` open a thread with ``target``?"""
    if starter.is_cvk:
        return True
    if target.kind == TargetKind.CVK:
        return bool(starter.commission_municipality_ids or starter.observer_municipality_ids)
    if target.kind == TargetKind.COMMISSION:
        muni = target.municipality_id
        if muni is None:
            return False
        if muni in starter.commission_municipality_ids | starter.observer_municipality_ids:
            return True
        if starter.is_voter:
            return (starter.voter_municipality_ids is None
                    or muni in starter.voter_municipality_ids)
        return False
    # A person.
    other = target.person
    if other.is_cvk:
        return bool(starter.commission_municipality_ids or starter.observer_municipality_ids)
    if starter.commission_municipality_ids & (other.commission_municipality_ids
                                              | other.observer_municipality_ids):
        return True
    return bool(starter.observer_municipality_ids & other.commission_municipality_ids)


def may_add_participant(adder: Standing, target: Target) -> bool:
    """May a participant bring ``target`` into a thread? CVK may add anyone (adding a CVK
    administrator is audited by the service); others whom they could start a thread with."""
    return may_start_thread(adder, target)


def is_participant(participants: Iterable[Any], user: Any) -> bool:
    """Is ``user`` one of ``participants`` (rows with ``user_id``/``commission_id``/``role``)?"""
    if user is None or not getattr(user, "is_active", False):
        return False
    participants = list(participants)
    # Person rows first: someone added by name is found without loading their memberships
    # (a query per request on the post and read paths).
    if any(p.user_id is not None and p.user_id == user.id for p in participants):
        return True
    groups = membership_groups(user)
    for p in participants:
        if p.user_id is not None:
            continue
        for commission_id, role in groups:
            if p.commission_id == commission_id and (p.role is None or p.role == role):
                return True
    return False


def may_close_thread(closer: Standing, *, is_participant: bool) -> bool:
    """Officials in the thread may close it (a voter's enquiry is closed by the commission)."""
    return is_participant and closer.is_official
