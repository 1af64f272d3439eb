"""Who may vote online, and as whom (Art. 7, 15, 20(5); spec section 5): the voter list, an
in-person vote, the voting window, and the voter's alias on the bulletin board.

The checks are split so that each caller asks the database once: ``load_for_casting`` and
``standing_columns`` read a person's standing with the referendum in one statement, and
``check_standing`` then decides without the database (the lean cast path uses it as well).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from referendum_core.clock import Clock
from referendum_core.etvr import Channel, EtvrMark
from referendum_core.register import VoterList, VoterListEntry, on_voter_list, voter_list_for
from referendum_core.voting.exceptions import (
    NotOnVoterList,
    OnlineVotingNotAvailable,
    OutsideVotingWindow,
    VotedInPerson,
    WrongStage,
)
from referendum_core.voting.models import Referendum, RegistrationEnvelope, Stage, VoterAlias


def is_on_list(session: Session, referendum: Referendum, person_ref: str | None) -> bool:
    """Is the person on the referendum's frozen voter list (Art. 7(2))?"""
    if not person_ref:
        return False
    voter_list = voter_list_for(session, referendum.case_id)
    return voter_list is not None and on_voter_list(session, voter_list, person_ref)


def in_person_vote(session: Session, referendum: Referendum,
                   person_ref: str) -> tuple[str, Any] | None:
    """Where and when the person voted in person (ETVR mark or registration envelope)."""
    mark = session.scalars(select(EtvrMark).where(
        EtvrMark.case_id == referendum.case_id, EtvrMark.person_ref == person_ref,
        EtvrMark.channel == Channel.POLLING_STATION)).first()
    if mark is not None:
        return mark.where, mark.marked_at
    envelope = session.scalars(select(RegistrationEnvelope).where(
        RegistrationEnvelope.referendum_id == referendum.id,
        RegistrationEnvelope.person_ref == person_ref)).first()
    if envelope is not None:
        return str(envelope.polling_station_id), envelope.recorded_at
    return None


def find_alias(session: Session, referendum: Referendum, person_ref: str) -> str | None:
    """The voter's alias, if one was made."""
    return session.scalar(select(VoterAlias.alias).where(
        VoterAlias.referendum_id == referendum.id, VoterAlias.person_ref == person_ref))


def alias_for(session: Session, clock: Clock, referendum: Referendum, person_ref: str) -> str:
    """The voter's alias in this referendum, made on first use (random, 128 bits)."""
    alias = find_alias(session, referendum, person_ref)
    if alias is not None:
        return alias
    row = VoterAlias(referendum_id=referendum.id, person_ref=person_ref,
                     alias="v-" + secrets.token_hex(16), created_at=clock.now())
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # made at the same moment by another request of the same voter
        alias = find_alias(session, referendum, person_ref)
        if alias is None:
            raise
        return alias
    return row.alias


@dataclass(frozen=True)
class VoterStanding:
    """What the database says of one person in one referendum: on its voter list, voted in
    person (ETVR mark at a station or a registration envelope), their alias if made."""

    listed: bool
    voted_in_person: bool
    alias: str | None


def standing_columns(case_id: Any, referendum_id: Any, person_ref: Any) -> tuple[Any, ...]:
    """The three ``VoterStanding`` facts as column expressions (one statement): whether
    ``person_ref`` is on the case's referendum voter list, whether they voted in person, their
    alias or NULL."""
    listed = exists().where(VoterListEntry.voter_list_id == VoterList.id,
                            VoterList.case_id == case_id,
                            VoterList.purpose == "referendum",
                            VoterListEntry.person_ref == person_ref)
    marked = exists().where(EtvrMark.case_id == case_id,
                            EtvrMark.person_ref == person_ref,
                            EtvrMark.channel == Channel.POLLING_STATION)
    enveloped = exists().where(RegistrationEnvelope.referendum_id == referendum_id,
                               RegistrationEnvelope.person_ref == person_ref)
    alias = (select(VoterAlias.alias).where(VoterAlias.referendum_id == referendum_id,
                                            VoterAlias.person_ref == person_ref)
             .scalar_subquery())
    return listed, or_(marked, enveloped), alias


# The hot path's statements are built once (constructing SQLAlchemy statements per request
# costs more CPU than running them).
_VOTER_CHECK = select(*standing_columns(bindparam("case_id"), bindparam("referendum_id"),
                                         bindparam("person_ref")))
_FOR_CASTING = (select(Referendum, *standing_columns(Referendum.case_id, Referendum.id,
                                                      bindparam("person_ref")))
                .where(Referendum.id == bindparam("referendum_id")))


def load_for_casting(session: Session, referendum_id: int, person_ref: str | None
                     ) -> tuple[Referendum, VoterStanding] | None:
    """The referendum and the person's standing in it, in one round trip (the cast's first
    statement after the sign-in); ``None`` when there is no such referendum."""
    row = session.execute(_FOR_CASTING, {"referendum_id": referendum_id,
                                         "person_ref": person_ref}).first()
    if row is None:
        return None
    return row[0], VoterStanding(bool(row[1]), bool(row[2]), row[3])


def check_may_vote_online(session: Session, clock: Clock, referendum: Referendum,
                          person_ref: str | None, standing: VoterStanding | None = None
                          ) -> str | None:
    """Everything about the voter and the time that online voting requires, in one round trip
    to the database (the list, both kinds of in-person vote and the voter's alias are asked
    together), or none when ``standing`` was read with the referendum (``load_for_casting``).
    Returns the voter's alias, if made.

    Raises:
        OnlineVotingNotAvailable (Art. 15(2)), WrongStage, OutsideVotingWindow (Art. 15(1)),
        NotOnVoterList (Art. 7), VotedInPerson (Art. 20(5)).
    """
    now = clock.now()
    check_window(now, referendum)
    if person_ref and standing is None:
        row = session.connection().execute(_VOTER_CHECK, {
            "case_id": referendum.case_id, "referendum_id": referendum.id,
            "person_ref": person_ref}).one()
        standing = VoterStanding(bool(row[0]), bool(row[1]), row[2])
    try:
        return _check_voter(now, person_ref, standing)
    except VotedInPerson:
        assert person_ref is not None
        voted = in_person_vote(session, referendum, person_ref)
        assert voted is not None
        raise VotedInPerson(*voted) from None


def check_window(now: datetime, referendum: Any) -> None:
    """Is the referendum taking online ballots at ``now``?

    Raises:
        OnlineVotingNotAvailable (Art. 15(2)), WrongStage, OutsideVotingWindow (Art. 15(1)).
    """
    if not referendum.has_online_voting:
        raise OnlineVotingNotAvailable()
    if referendum.stage != Stage.VOTING:
        raise WrongStage("voting is not open", stage=referendum.stage)
    assert referendum.online_opens_at is not None and referendum.online_closes_at is not None
    if not referendum.online_opens_at <= now < referendum.online_closes_at:
        raise OutsideVotingWindow(opens_at=referendum.online_opens_at,
                                  closes_at=referendum.online_closes_at)


def check_standing(now: datetime, referendum: Any, person_ref: str | None,
                   standing: VoterStanding | None) -> str | None:
    """May ``person_ref``, whose ``standing`` was read from the database, cast a ballot in
    ``referendum`` at ``now``? Returns their alias (``None`` if not made yet); no database work.
    ``referendum`` is a ``Referendum`` or any object with its stage and window columns and
    ``has_online_voting`` (the lean cast path reads only those).

    Raises:
        the refusals of ``check_window``; NotOnVoterList (Art. 7), VotedInPerson (Art. 20(5);
        ``where`` and ``when`` unknown here, ``check_may_vote_online`` looks them up).
    """
    check_window(now, referendum)
    return _check_voter(now, person_ref, standing)


def _check_voter(now: datetime, person_ref: str | None, standing: VoterStanding | None
                 ) -> str | None:
    """The voter's part of ``check_standing`` (Art. 7, Art. 20(5)); returns the alias."""
    if not person_ref or standing is None or not standing.listed:
        raise NotOnVoterList()
    if standing.voted_in_person:
        raise VotedInPerson("", now)
    return standing.alias
