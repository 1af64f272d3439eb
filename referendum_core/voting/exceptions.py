"""Refusals of the voting services. Each names the rule (``code``) and, where one applies, the
article, so the portal can show a translated sentence and tests can say which rule held."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from referendum_core.refusals import Refused


class VotingError(Refused):
    """Base class of every refusal by the voting services."""

    area = "voting"
    code = "refused"
    article = ""

    def __init__(self, message: str = "", **params: Any) -> None:
        super().__init__(message or f"{self.code} ({self.article})")
        self.params = params
        # A stable code for the portal's translated sentence (the message is for logs).
        self.reason: str = str(params.get("reason") or self.code)


class InvalidSetup(VotingError):
    """The referendum's set-up data breaks a rule (day not a Saturday, empty question …)."""

    code = "invalid_setup"
    REASONS = ("unknown_subject", "question_missing", "question_too_long", "not_saturday",
               "already_started", "wrong_case", "case_not_scheduled", "already_set_up",
               "no_online_voting", "trustees_invalid", "online_over", "no_trustees",
               "key_missing", "polling_day_over", "no_initiative", "subject_mismatch",
               "question_mismatch", "after_latest_day", "council_decision_missing",
               "council_majority_missing", "council_own_dismissal", "outside_start_window",
               "register_deadlines", "same_day_required", "threshold_invalid", "dkg_unfinished",
               "dkg_deadline_invalid", "dkg_pending")


class WrongStage(VotingError):
    """The action does not fit the referendum's stage (e.g. a key after the manifest froze)."""

    code = "wrong_stage"


class NotATrustee(VotingError):
    """The person is not a trustee of this referendum (or not in the internet commission)."""

    code = "not_a_trustee"
    article = "Art. 20(6)"


class TrusteeKeyRefused(VotingError):
    """A trustee's public key or its proof of knowledge does not verify."""

    code = "trustee_key_refused"
    REASONS = ("not_json", "proof", "duplicate_key", "dkg_not_started", "dkg_other_trustee",
               "dkg_message", "dkg_closed", "dkg_round_closed", "dkg_round_waiting")


class OnlineVotingNotAvailable(VotingError):
    """A dismissal referendum has no online voting."""

    code = "no_online_voting"
    article = "Art. 15(2)"


class OutsideVotingWindow(VotingError):
    """Online voting is only Monday-Wednesday before referendum day."""

    code = "outside_online_window"
    article = "Art. 15(1)"


class OutsidePollingHours(VotingError):
    """Polling stations are open 07:00-20:00 Riga time on referendum day."""

    code = "outside_polling_hours"
    article = "Art. 16(1)"


class NotOnVoterList(VotingError):
    """The person is not on the referendum's voter list."""

    code = "not_on_voter_list"
    article = "Art. 7"


class VotedInPerson(VotingError):
    """The voter already voted at a polling station; online voting is closed to them."""

    code = "voted_in_person"
    article = "Art. 20(5)"

    def __init__(self, where: str, when: datetime) -> None:
        super().__init__(f"voted in person at {where} on {when.isoformat()}", where=where,
                         when=when)
        self.where, self.when = where, when


class EnvelopeExists(VotingError):
    """A commission marks a voter who already voted on a registration envelope (recorded while
    the ETVR was unreachable, Art. 4(6)); ``where`` is the station's id, ``when`` the moment."""

    code = "envelope_exists"
    article = "Art. 17(3)"

    def __init__(self, where: int, when: datetime) -> None:
        super().__init__(f"registration envelope at {where} on {when.isoformat()}",
                         where=where, when=when)
        self.where, self.when = where, when


class BallotRefused(VotingError):
    """The ballot failed a check of the election-record contract (section 5)."""

    code = "ballot_refused"
    REASONS = ("too_large", "not_json", "other_election", "reused_randomness", "replay", "alias",
               "proof", "malformed", "audited")

    def __init__(self, reason: str, location: str = "", message: str = "") -> None:
        super().__init__(message or f"{reason} at {location or '(ballot)'}", reason=reason,
                         location=location)
        self.reason, self.location = reason, location

    def answer_detail(self) -> dict[str, Any]:
        return {"location": self.location}


class ShareRefused(VotingError):
    """A trustee's partial decryption does not verify (or is for another tally)."""

    code = "share_refused"
    article = "Art. 20(6)"
    REASONS = ("not_json", "not_a_partial", "other_election", "wrong_key", "other_tally",
               "proof", "already_in", "not_qualified")

    def __init__(self, message: str, location: str = "", reason: str = "proof") -> None:
        super().__init__(message, location=location, reason=reason)
        self.location = location


class ProtocolRefused(VotingError):
    """A polling-station protocol does not add up, or is confirmed by the member who entered it."""

    code = "protocol_refused"
    article = "Art. 20(9)"
    REASONS = ("not_a_count", "does_not_add_up", "more_than_voters", "already_confirmed",
               "same_member")

    def __init__(self, reason: str, **params: Any) -> None:
        super().__init__(reason, **params)
        self.reason = reason


class ResultsNotReady(VotingError):
    """Results cannot be approved yet (tally incomplete or protocols unconfirmed)."""

    code = "results_not_ready"
    article = "Art. 20(9)-(10)"
    REASONS = ("base_figure_missing", "protocols_missing", "envelopes_pending")

    def __init__(self, reason: str, **params: Any) -> None:
        super().__init__(reason, **params)
        self.reason = reason


class HomeVotingRefused(VotingError):
    """A home-voting request (Art. 19) or its handling breaks a rule: ``after_cutoff``,
    ``already_requested``, ``address_required``, ``reason_required``, ``too_long``,
    ``not_home_voting``, ``wrong_station``, ``not_accepted``."""

    code = "home_voting_refused"
    article = "Art. 19"
    REASONS = ("after_cutoff", "already_requested", "address_required", "reason_required",
               "too_long", "not_home_voting", "wrong_station", "not_accepted")

    def __init__(self, reason: str, **params: Any) -> None:
        super().__init__(reason, **params)
        self.reason = reason
