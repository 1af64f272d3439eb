"""Translated sentences for the voting services' refusals (one place, shared by pages and the
JSON API). Domain exceptions carry a stable ``reason`` code; their English message is for logs
and never reaches a page."""
from __future__ import annotations

from typing import Any

from flask_babel import format_date, format_datetime, format_time, gettext

from portal.dates import DAY_PATTERN, MOMENT_PATTERN
from referendum_core.etvr import AlreadyVoted
from referendum_core.organisation import PollingStation
from referendum_core.voting.counting import PollsStillOpen
from referendum_core.voting.exceptions import (
    BallotRefused,
    HomeVotingRefused,
    InvalidSetup,
    NotATrustee,
    NotOnVoterList,
    OnlineVotingNotAvailable,
    OutsidePollingHours,
    OutsideVotingWindow,
    ProtocolRefused,
    ResultsNotReady,
    ShareRefused,
    TrusteeKeyRefused,
    VotedInPerson,
    VotingError,
    WrongStage,
)

BALLOT_REASONS = {
    "other_election": lambda: gettext("The ballot was made for another referendum."),
    "replay": lambda: gettext("This encrypted ballot was already used. Encrypt your choice "
                              "again and cast the new ballot."),
    "audited": lambda: gettext("This ballot was opened for checking, so anyone can read it: "
                               "it can never be cast. Encrypt your choice again and cast the "
                               "new ballot."),
    "reused_randomness": lambda: gettext("The ballot was encrypted with the same randomness "
                                         "for two choices, which would reveal your choice. "
                                         "It was not accepted; reload the page and encrypt "
                                         "your choice again."),
    "alias": lambda: gettext("The ballot was not made for you. Reload the page and try again."),
    "not_json": lambda: gettext("The ballot could not be read."),
    "too_large": lambda: gettext("The ballot could not be read."),
}
PROTOCOL_REASONS = {
    "does_not_add_up": lambda: gettext("The protocol does not add up: votes for, votes against "
                                       "and invalid ballots must together equal the ballots "
                                       "issued."),
    "more_than_voters": lambda: gettext("More ballots than voters registered at this polling "
                                        "station."),
    "not_a_count": lambda: gettext("Enter whole numbers of zero or more."),
    "already_confirmed": lambda: gettext("This protocol is already confirmed and cannot be "
                                         "changed."),
    "same_member": lambda: gettext("A second commission member must confirm the protocol; you "
                                   "entered it."),
}


def _when(err: Any) -> str:
    when = err.params.get("ends_at")
    return format_datetime(when, "short") if when is not None else "-"


ROUND_LABELS = {
    "commit": lambda: gettext("Commit"), "reveal": lambda: gettext("Reveal"),
    "shares": lambda: gettext("Shares"), "complaints": lambda: gettext("Check"),
    "answers": lambda: gettext("Answer"),
}


def round_label(kind: Any) -> str:
    """A key-generation round's name as the trustee pages show it."""
    label = ROUND_LABELS.get(kind)
    return label() if label is not None else "-"


DEADLINE_PROBLEMS = {
    "missing": lambda err: gettext("Give a deadline for every round of the key generation."),
    "past": lambda err: gettext("The key generation's deadlines must be in the future."),
    "order": lambda err: gettext("Each round's deadline must come after the deadline of the "
                                 "round before it."),
    "after_opening": lambda err: gettext(
        "The key generation must end no later than the online vote opens (%(when)s, Art. 15(1)): "
        "the election key goes into the manifest before.",
        when=format_datetime(err.params["opens_at"], "short")
        if err.params.get("opens_at") else "-"),
}


SETUP_REASONS = {
    "unknown_subject": lambda err: gettext("Choose one of the subjects the law allows "
                                           "(Art. 5)."),
    "question_missing": lambda err: gettext("Write the question in Latvian and in English."),
    "question_too_long": lambda err: gettext("The question is too long (at most 2000 "
                                             "characters)."),
    "not_saturday": lambda err: gettext("Referendum day must be a Saturday (Art. 16(1))."),
    "already_started": lambda err: gettext("Voting on that day would already have started; "
                                           "choose a later Saturday."),
    "wrong_case": lambda err: gettext("The chosen case is not a referendum of this "
                                      "municipality."),
    "case_not_scheduled": lambda err: gettext("The referendum case is no longer scheduled."),
    "already_set_up": lambda err: gettext("This referendum is already set up."),
    "no_online_voting": lambda err: gettext("A referendum on dismissing the council has no "
                                            "online voting, so it has no trustees "
                                            "(Art. 15(2))."),
    "trustees_invalid": lambda err: gettext("Choose at least one trustee, each only once."),
    "online_over": lambda err: gettext("The online voting period is already over."),
    "no_trustees": lambda err: gettext("Choose the trustees first."),
    "key_missing": lambda err: gettext("Not every trustee has uploaded a public key yet."),
    "polling_day_over": lambda err: gettext("Polling day is already over."),
    "no_initiative": lambda err: gettext("This referendum case has no initiative to take the "
                                         "subject and question from."),
    "subject_mismatch": lambda err: gettext("The subject is fixed by the initiative and cannot "
                                            "be changed (Art. 5)."),
    "question_mismatch": lambda err: gettext("The question is the one fixed by the decision "
                                             "and cannot be changed (Art. 10(5))."),
    "after_latest_day": lambda err: gettext(
        "The referendum must be held no later than %(day)s, 4 months after the decision "
        "(Art. 13(4)).", day=format_date(err.params["latest"], DAY_PATTERN)
        if err.params.get("latest") else "-"),
    "council_decision_missing": lambda err: gettext("Give the date (not in the future) and "
                                                    "number of the council's decision "
                                                    "(Art. 8(2))."),
    "council_majority_missing": lambda err: gettext("The council's decision needs at least two "
                                                    "thirds of all councillors (Art. 8(2))."),
    "council_own_dismissal": lambda err: gettext("The council cannot decide a referendum on "
                                                 "its own dismissal (Art. 9)."),
    "register_deadlines": lambda err: gettext(
        "That referendum day is too close: the voter register had to be informed by %(when)s "
        "(19 working days before, Voter Register Law). Choose a later Saturday.",
        when=format_datetime(err.params["inform_by"], MOMENT_PATTERN)
        if err.params.get("inform_by") else "-"),
    "same_day_required": lambda err: gettext(
        "This referendum is held together with the one already scheduled on %(day)s "
        "(Art. 13(5)).", day=format_date(err.params["day"], DAY_PATTERN)
        if err.params.get("day") else "-"),
    "outside_start_window": lambda err: gettext("The council's decision is outside the time "
                                                "allowed to start a referendum on this "
                                                "subject (Art. 6)."),
    "threshold_invalid": lambda err: gettext("The threshold must be a whole number from 1 to "
                                             "the number of trustees."),
    "dkg_unfinished": lambda err: gettext("The trustees' key generation has not ended with "
                                          "at least the threshold of qualified trustees."),
    "dkg_deadline_invalid": lambda err: DEADLINE_PROBLEMS.get(
        err.params.get("problem"), DEADLINE_PROBLEMS["missing"])(err),
    "dkg_pending": lambda err: gettext(
        "The trustees' key generation is still running until %(when)s: a check or an answer "
        "is still due.", when=_when(err)),
}
KEY_REASONS = {
    "not_json": lambda err: gettext("The public key was refused: the file is not the JSON "
                                    "printed by referendum-trustee keygen."),
    "proof": lambda err: gettext("The public key was refused: its proof does not verify for "
                                 "this referendum (%(location)s).",
                                 location=err.params.get("location") or "-"),
    "duplicate_key": lambda err: gettext("The public key was refused: another trustee already "
                                         "uses this key."),
    "dkg_not_started": lambda err: gettext("The chair has not started a key generation for "
                                           "this referendum."),
    "dkg_other_trustee": lambda err: gettext("The message was refused: it is not for trustee "
                                             "number %(index)s (you).",
                                             index=err.params.get("index") or "-"),
    "dkg_message": lambda err: gettext(
        "The message was refused: it is malformed, for another round or referendum, already "
        "published, or its signature does not verify (%(location)s).",
        location=err.params.get("location") or "-"),
    "dkg_closed": lambda err: gettext("The message was refused: the key generation ended at "
                                      "%(when)s.",
                                      when=_when(err)),
    "dkg_round_closed": lambda err: gettext(
        "The message was refused: the round “%(round)s” ended at %(when)s. A trustee who missed "
        "the commit, reveal, check or answer deadline is disqualified.",
        round=round_label(err.params.get("round")), when=_when(err)),
    "dkg_round_waiting": lambda err: gettext(
        "The message was refused: the round “%(round)s” has not begun. It begins when every "
        "trustee has done the round before it, or at that round's deadline (%(when)s).",
        round=round_label(err.params.get("round")), when=_when(err)),
}
SHARE_REASONS = {
    "not_json": lambda err: gettext("The partial decryption was refused: the file is not "
                                    "JSON."),
    "not_a_partial": lambda err: gettext("The partial decryption was refused: it is not a file "
                                         "written by referendum-trustee decrypt."),
    "other_election": lambda err: gettext("The partial decryption was refused: it was made for "
                                          "another referendum."),
    "wrong_key": lambda err: gettext("The partial decryption was refused: it was made with "
                                     "another trustee's key."),
    "other_tally": lambda err: gettext("The partial decryption was refused: it was made for "
                                       "another tally. Download the record again."),
    "proof": lambda err: gettext("The partial decryption was refused: its proof does not "
                                 "verify (%(location)s).", location=err.location or "-"),
    "already_in": lambda err: gettext("Your partial decryption is already accepted."),
    "not_qualified": lambda err: gettext("The partial decryption was refused: you were "
                                         "disqualified in the key generation."),
}
HOME_VOTING_REASONS = {
    "after_cutoff": lambda err: gettext(
        "Home-voting requests are accepted until %(when)s on referendum day (Art. 19).",
        when=format_time(err.params["cutoff_at"], "short")),
    "already_requested": lambda err: gettext("A home-voting request of this voter is already "
                                             "open or done."),
    "address_required": lambda err: gettext("Write the address where the commission should "
                                            "bring the ballot."),
    "reason_required": lambda err: gettext("Write why the voter cannot come to the polling "
                                           "station."),
    "too_long": lambda err: gettext("The text is too long."),
    "not_accepted": lambda err: gettext("Accept the request before recording the visit."),
    "wrong_station": lambda err: gettext("The polling station is not in this municipality."),
    "not_home_voting": lambda err: gettext("This is not a home-voting request."),
}


def station_label(station_id: int | str | None) -> str:
    """``No. 801 (Skola)`` for a station id, ``online`` for an online mark."""
    from portal.web import db

    if station_id in (None, "online"):
        return gettext("online")
    station = db().get(PollingStation, int(station_id))
    if station is None:
        return str(station_id)
    return gettext("polling station No. %(number)s (%(name)s)", number=station.number,
                   name=station.name)


def already_voted_text(err: AlreadyVoted) -> str:
    """Where and when the voter was already marked."""
    return gettext("Already voted: %(where)s, %(when)s.",
                   where=station_label(err.mark.polling_station_id or "online"),
                   when=format_datetime(err.mark.marked_at, MOMENT_PATTERN))


def refusal_text(err: Exception) -> str:
    """A translated sentence for a refusal of the voting services."""
    if isinstance(err, AlreadyVoted):
        return already_voted_text(err)
    if isinstance(err, VotedInPerson):
        return gettext("You already voted in person (%(where)s, %(when)s); online voting is "
                       "closed to you.", where=station_label(err.where),
                       when=format_datetime(err.when, MOMENT_PATTERN))
    if isinstance(err, OnlineVotingNotAvailable):
        return gettext("There is no online voting in a referendum on dismissing the council "
                       "(Art. 15(2)). Vote at a polling station on referendum day.")
    if isinstance(err, OutsideVotingWindow):
        return gettext("Online voting is open from Monday to Wednesday before referendum day, "
                       "around the clock (Art. 15(1)).")
    if isinstance(err, OutsidePollingHours):
        return gettext("Polling stations are open from 07:00 to 20:00 on referendum day "
                       "(Art. 16(1)).")
    if isinstance(err, NotOnVoterList):
        return gettext("This person is not on the voter list of this referendum (Art. 7).")
    if isinstance(err, BallotRefused):
        text = BALLOT_REASONS.get(err.reason)
        return text() if text else gettext(
            "The encrypted ballot failed a check (%(location)s) and was not accepted.",
            location=err.location or "-")
    if isinstance(err, HomeVotingRefused):
        text = HOME_VOTING_REASONS.get(err.reason)
        return text(err) if text else gettext("The home-voting request was refused.")
    if isinstance(err, ProtocolRefused):
        text = PROTOCOL_REASONS.get(err.reason)
        return text() if text else gettext("The protocol was not accepted.")
    if isinstance(err, ShareRefused):
        return SHARE_REASONS.get(err.reason, SHARE_REASONS["proof"])(err)
    if isinstance(err, TrusteeKeyRefused):
        return KEY_REASONS.get(err.reason, KEY_REASONS["proof"])(err)
    if isinstance(err, NotATrustee):
        return gettext("Only trustees chosen from the internet polling-station commission may "
                       "do this.")
    if isinstance(err, ResultsNotReady):
        if err.reason == "protocols_missing":
            return gettext("Protocols of these polling stations are missing or unconfirmed: "
                           "%(stations)s.", stations=", ".join(
                               str(n) for n in err.params.get("stations", [])))
        if err.reason == "base_figure_missing":
            if err.params.get("field") == "participants_at_last_election":
                return gettext("The number of people who took part in the last council "
                               "elections is not recorded, so the result cannot be judged "
                               "(Art. 22(3)). Ask CVK to record it, then approve the result.")
            return gettext("The number of voters on the lists at the last council elections "
                           "is not recorded, so the result cannot be judged (Art. 22(1)). Ask "
                           "CVK to record it, then approve the result.")
        return gettext("Registration envelopes are not yet checked against the voter "
                       "register.")
    if isinstance(err, InvalidSetup):
        text = SETUP_REASONS.get(err.reason)
        return text(err) if text else gettext("The set-up was not accepted.")
    if isinstance(err, PollsStillOpen):
        return gettext("Online votes are counted only after the polls close at 20:00 "
                       "(Art. 20(1)).")
    if isinstance(err, WrongStage):
        return gettext("This is not possible at the referendum's current stage.")
    if isinstance(err, VotingError):
        return gettext("The request was refused.")
    return gettext("The request was refused.")
