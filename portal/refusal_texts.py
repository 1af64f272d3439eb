"""The one registry of refusal texts: for every rule a domain service refuses by, the sentence
people read (English here, Latvian in the catalogues) and the HTTP status of the answer.

Keys are a refusal's ``reason_code`` (``referendum_core.refusals``): ``area.code`` or
``area.code.reason``. A refusal whose exact key is missing gets its rule's sentence
(``area.code``); the generic sentence is only for refusals no rule names, and a test fails when
any reason a service can raise would fall through to it. A domain refusal's own message is
English for the logs and never reaches a page.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import format_time, gettext, pgettext

from portal.dates import day_text, moment_text
from portal.web import db
from referendum_core.organisation import PollingStation
from referendum_core.refusals import Refused

Text = Callable[[Any], str]


@dataclass(frozen=True)
class Reason:
    """A refusal's sentence (``text(err)`` in the request's language) and HTTP status."""

    text: Text
    status: int = 400


def station_label(station_id: int | str | None) -> str:
    """``1. Ādažu vidusskola`` for a station id (the station as every page names it: its number
    and name, never the database id), ``online`` for an online mark."""
    if station_id in (None, "online"):
        return gettext("online")
    station = db().get(PollingStation, int(station_id))
    if station is None:
        return str(station_id)
    return f"{station.number}. {station.name}"


def _when(err: Any) -> str:
    when = err.params.get("ends_at")
    return moment_text(when) if when is not None else "-"


def _day(value: object) -> str:
    return value.strftime("%d.%m.%Y") if hasattr(value, "strftime") else "-"


def _upload(reason: str) -> str:
    return UPLOAD[reason](None)


UPLOAD: dict[str, Text] = {
    "too_large": lambda err: gettext("The file is too large."),
    "empty": lambda err: gettext("The file is empty."),
    "type_not_allowed": lambda err: gettext("This type of file is not accepted here."),
    "type_mismatch": lambda err: gettext("The file's content does not match its name (for "
                                         "example, a renamed file). Attach the real document."),
    "damaged": lambda err: gettext("The file is damaged or incomplete."),
    "zip_bomb": lambda err: gettext("The document unpacks to an unsafe size."),
}

def _photo(err: Any) -> str:
    rule = gettext("Photos must be JPEG, PNG, WebP or HEIC images of at most 8 MB, "
                   "up to 6 per case.")
    reason = getattr(err, "reason", None)
    return f"{_upload(reason)} {rule}" if reason in UPLOAD else rule


CASE_FIELDS: dict[str, Callable[[], str]] = {
    "description": lambda: gettext("Description"), "summary": lambda: gettext("Description"),
    "category": lambda: gettext("Category"), "severity": lambda: gettext("Severity"),
    "title": lambda: gettext("Title"), "note": lambda: gettext("Note"),
    "comment": lambda: gettext("Comment"),
    # What the observer app sends (portal/observation/api.py).
    "polling_station_id": lambda: gettext("Polling station"),
    "referendum_id": lambda: gettext("Referendum"),
    "corrects_case_id": lambda: gettext("The report it corrects"),
    "filled_at": lambda: gettext("Time filled in"), "answers": lambda: gettext("Answers"),
    "photos": lambda: gettext("Photos"), "key": lambda: gettext("Entry identifier"),
    "value": lambda: pgettext("checklist column", "Answer"),
    "item": lambda: gettext("Question"),
}


def field_name(path: str) -> str:
    """A field of a request named in the person's language: ``answers[2].value`` is "Answer
    (answer no. 3)"; a field without a name of its own is quoted as the technical name it is."""
    head, _, tail = path.rpartition(".")
    index = None
    if "[" in (head or path):
        base = head or path
        try:
            index = int(base[base.index("[") + 1:base.index("]")]) + 1
        except ValueError:
            index = None
    key = tail if head else path.split("[", 1)[0]
    if key not in CASE_FIELDS:
        return f"„{path}”"
    name = CASE_FIELDS[key]()
    return gettext("%(name)s (no. %(n)s)", name=name, n=index) if index else name


def _invalid_case_data(err: Any) -> str:
    """The field at fault, named in the person's language, and how it is wrong."""
    field, problem = getattr(err, "field", None), getattr(err, "problem", None)
    if not field or not problem:
        return gettext("Some information is missing or not valid. Check the form and try "
                       "again.")
    name = CASE_FIELDS[field]() if field in CASE_FIELDS else field
    if problem == "required":
        return gettext("Fill in the field “%(field)s”.", field=name)
    if problem == "too_long":
        return gettext("The field “%(field)s” is too long: at most %(limit)s characters.",
                       field=name, limit=getattr(err, "limit", None) or "-")
    return gettext("The value of the field “%(field)s” is not one of those allowed. Choose "
                   "one from the list.", field=name)


CASE: dict[str, Reason] = {
    "stale": Reason(lambda err: gettext(
        "Someone else changed this case at the same time. The page now shows the current "
        "state; check it and try again."), 409),
    "not_accredited": Reason(lambda err: gettext(
        "You do not observe this polling station in this referendum now (an observer is "
        "accredited per polling station, for the referendum's days), so you cannot report from "
        "it."), 403),
    "deadline_set_by_law": Reason(lambda err: gettext(
        "This deadline is set by law (%(article)s) and cannot be moved by anyone.",
        article=err.basis), 403),
    "not_allowed": Reason(lambda err: gettext("You may not do this on this case."), 403),
    "invalid_transition": Reason(lambda err: gettext(
        "That action is not possible in the case's current state."), 409),
    "invalid_photo": Reason(_photo),
    "bad_characters": Reason(lambda err: gettext(
        "The text contains invisible control or direction-changing characters. Type it "
        "again without them.")),
    "referendum_not_chosen": Reason(lambda err: gettext(
        "You observe this polling station in several referendums. Choose the one your report "
        "is about.")),
    "note_required": Reason(lambda err: gettext("Write a note for this action.")),
    "filing_period_over": Reason(lambda err: gettext(
        "The period to contest this has ended (%(article)s).", article=err.article)),
    "unknown_case_type": Reason(lambda err: gettext("Unknown case type.")),
    "invalid_data": Reason(lambda err: _invalid_case_data(err)),
    "refused": Reason(lambda err: gettext(
        "The request could not be understood. Check the form and try again.")),
}

MESSAGING: dict[str, Reason] = {
    "not_participant": Reason(lambda err: gettext(
        "You are not a participant of this conversation."), 403),
    "thread_closed": Reason(lambda err: gettext(
        "This conversation is closed and takes no new messages."), 409),
    "unsafe_content": Reason(lambda err: gettext(
        "The text contains HTML or script, which is not allowed. Write plain text or "
        "Markdown.")),
    "empty_text": Reason(lambda err: gettext("Write a message first.")),
    "text_too_long": Reason(lambda err: gettext("The message is too long.")),
    "empty_subject": Reason(lambda err: gettext("Give the conversation a subject.")),
    "subject_too_long": Reason(lambda err: gettext("The subject is too long.")),
    "no_recipient": Reason(lambda err: gettext("Choose whom to write to.")),
    "not_allowed": Reason(lambda err: gettext(
        "You cannot start a conversation with this recipient.")),
    "unknown_commission": Reason(lambda err: gettext("There is no such recipient.")),
    "unknown_person": Reason(lambda err: gettext(
        "There is no active account with this e-mail address.")),
    "bad_reply": Reason(lambda err: gettext(
        "The message you reply to is not in this conversation.")),
    "not_author": Reason(lambda err: gettext("Only the author can edit a message."), 403),
    "edit_window_over": Reason(lambda err: gettext("The time for editing this message is over.")),
    **{reason: Reason(text, 413 if reason == "too_large" else 400)
       for reason, text in UPLOAD.items()},
    "upload_too_large": Reason(lambda err: gettext(
        "The upload is too large; nothing was saved."), 413),
    "type_not_allowed": Reason(lambda err: gettext(
        "This type of file is not accepted. Attach PDF, PNG, JPEG, WebP, DOCX, XLSX, ODT or ODS "
        "files.")),
    "too_many": Reason(lambda err: gettext("Too many attachments in one message.")),
    "refused": Reason(lambda err: gettext("This action was refused.")),
}

BALLOT: dict[str, Text] = {
    "other_election": lambda err: gettext("The ballot was made for another referendum."),
    "replay": lambda err: gettext("This encrypted ballot was already used. Encrypt your choice "
                                  "again and cast the new ballot."),
    "audited": lambda err: gettext("This ballot was opened for checking, so anyone can read it: "
                                   "it can never be cast. Encrypt your choice again and cast "
                                   "the new ballot."),
    "reused_randomness": lambda err: gettext("The ballot was encrypted with the same randomness "
                                             "for two choices, which would reveal your choice. "
                                             "It was not accepted; reload the page and encrypt "
                                             "your choice again."),
    "alias": lambda err: gettext("The ballot was not made for you. Reload the page and try "
                                 "again."),
    "not_json": lambda err: gettext("The ballot could not be read."),
    "too_large": lambda err: gettext("The ballot could not be read."),
}
PROTOCOL: dict[str, Text] = {
    "does_not_add_up": lambda err: gettext("The protocol does not add up: votes for, votes "
                                           "against and invalid ballots must together equal "
                                           "the ballots issued."),
    "more_than_voters": lambda err: gettext("More ballots than voters registered at this "
                                            "polling station."),
    "not_a_count": lambda err: gettext("Enter whole numbers of zero or more."),
    "already_confirmed": lambda err: gettext("This protocol is already confirmed and cannot be "
                                             "changed."),
    "same_member": lambda err: gettext("A second commission member must confirm the protocol; "
                                       "you entered it."),
}
ROUND_LABELS = {
    "commit": lambda: gettext("Commit"), "reveal": lambda: gettext("Reveal"),
    "shares": lambda: gettext("Shares"), "complaints": lambda: gettext("Check"),
    "answers": lambda: gettext("Answer"),
}


def round_label(kind: Any) -> str:
    """A key-generation round's name as the trustee pages show it."""
    label = ROUND_LABELS.get(kind)
    return label() if label is not None else "-"


DEADLINE_PROBLEMS: dict[str, Text] = {
    "missing": lambda err: gettext("Give a deadline for every round of the key generation."),
    "past": lambda err: gettext("The key generation's deadlines must be in the future."),
    "order": lambda err: gettext("Each round's deadline must come after the deadline of the "
                                 "round before it."),
    "after_opening": lambda err: gettext(
        "The key generation must end no later than the online vote opens (%(when)s, Art. 15(1)): "
        "the election key goes into the manifest before.",
        when=moment_text(err.params["opens_at"])
        if err.params.get("opens_at") else "-"),
}
SETUP: dict[str, Text] = {
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
        "(Art. 13(4)).", day=day_text(err.params["latest"])
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
        when=moment_text(err.params["inform_by"])
        if err.params.get("inform_by") else "-"),
    "same_day_required": lambda err: gettext(
        "This referendum is held together with the one already scheduled on %(day)s "
        "(Art. 13(5)).", day=day_text(err.params["day"])
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
TRUSTEE_KEY: dict[str, Text] = {
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
SHARE: dict[str, Text] = {
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
HOME_VOTING: dict[str, Text] = {
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


def _results_not_ready(err: Any) -> str:
    if err.reason == "protocols_missing":
        return gettext("Protocols of these polling stations are missing or unconfirmed: "
                       "%(stations)s.", stations=", ".join(
                           str(n) for n in err.params.get("stations", [])))
    if err.reason == "base_figure_missing":
        if err.params.get("field") == "participants_at_last_election":
            return gettext("The number of people who took part in the last council elections "
                           "is not recorded, so the result cannot be judged (Art. 22(3)). Ask "
                           "CVK to record it, then approve the result.")
        return gettext("The number of voters on the lists at the last council elections is "
                       "not recorded, so the result cannot be judged (Art. 22(1)). Ask CVK to "
                       "record it, then approve the result.")
    return gettext("Registration envelopes are not yet checked against the voter register.")


def _already_voted(err: Any) -> str:
    return gettext("Already voted: %(where)s, %(when)s.",
                   where=station_label(err.mark.polling_station_id or "online"),
                   when=moment_text(err.mark.marked_at))


def _by_reason(table: dict[str, Text], fallback: Text | None = None) -> Text:
    return lambda err: table.get(err.reason, fallback or table.get("proof"))(err)


VOTING: dict[str, Text] = {
    "envelope_exists": lambda err: gettext(
        "Already voted: %(where)s, %(when)s (on a registration envelope).",
        where=station_label(err.where), when=moment_text(err.when)),
    "voted_in_person": lambda err: gettext(
        "You already voted in person (%(where)s, %(when)s); online voting is closed to you.",
        where=station_label(err.where), when=moment_text(err.when)),
    "no_online_voting": lambda err: gettext(
        "There is no online voting in a referendum on dismissing the council (Art. 15(2)). "
        "Vote at a polling station on referendum day."),
    "outside_online_window": lambda err: gettext(
        "Online voting is open from Monday to Wednesday before referendum day, around the "
        "clock (Art. 15(1))."),
    "outside_polling_hours": lambda err: gettext(
        "Polling stations are open from 07:00 to 20:00 on referendum day (Art. 16(1))."),
    "not_on_voter_list": lambda err: gettext(
        "This person is not on the voter list of this referendum (Art. 7)."),
    "ballot_refused": lambda err: gettext(
        "The encrypted ballot failed a check (%(location)s) and was not accepted.",
        location=err.location or "-"),
    "home_voting_refused": lambda err: gettext("The home-voting request was refused."),
    "protocol_refused": lambda err: gettext("The protocol was not accepted."),
    "share_refused": SHARE["proof"],
    "trustee_key_refused": TRUSTEE_KEY["proof"],
    "not_a_trustee": lambda err: gettext(
        "Only trustees chosen from the internet polling-station commission may do this."),
    "results_not_ready": _results_not_ready,
    "invalid_setup": lambda err: gettext("The set-up was not accepted."),
    "polls_still_open": lambda err: gettext(
        "Online votes are counted only after the polls close at 20:00 (Art. 20(1))."),
    "wrong_stage": lambda err: gettext(
        "This is not possible at the referendum's current stage."),
    "refused": lambda err: gettext("The request was refused."),
}

ETVR: dict[str, Reason] = {
    "refused": Reason(lambda err: gettext("The request was refused."), 422),
    "already_voted": Reason(_already_voted, 409),
    "not_on_voter_list": Reason(lambda err: gettext("The request was refused."), 422),
    "unavailable": Reason(lambda err: gettext("The request was refused."), 422),
}

INITIATIVE: dict[str, Text] = {
    "invalid_subject": lambda err: gettext("A referendum may only concern the strategy, a "
                                           "construction decision or the council's dismissal "
                                           "(Art. 5)."),
    "outside_start_window": lambda err: gettext("The initiative is outside the time allowed "
                                                "to start it (Art. 6)."),
    "dismissal_outside_term": lambda err: gettext("A dismissal cannot be started in the "
                                                  "council's first or last year (Art. 6)."),
    "applicant_not_eligible": lambda err: gettext("Only a voter of this municipality may apply "
                                                  "(Art. 7)."),
    "council_majority_missing": lambda err: gettext("The council needs at least two thirds of "
                                                    "all councillors (Art. 8(2))."),
    "council_own_dismissal": lambda err: gettext("The council cannot initiate its own "
                                                 "dismissal."),
    "council_decision_missing": lambda err: gettext("The council's decision needs its date "
                                                    "(not in the future) and number "
                                                    "(Art. 8(2))."),
    "missing_text": lambda err: gettext("Fill in the question and the reasons."),
    "missing_base_figure": lambda err: gettext("The municipality's figures from the last "
                                               "council elections are missing; ask CVK to "
                                               "record them."),
    "wrong_state": lambda err: gettext("This step is not possible at this stage."),
    "dismissal_repeat_too_soon": lambda err: gettext(
        "A dismissal referendum in this municipality did not pass less than a year ago; a new "
        "one may be started from %(day)s (Art. 23).", day=_day(err.params.get("until"))),
    "application_late": lambda err: gettext("The application to the election commission is "
                                            "late: it was due within 3 working days after the "
                                            "organiser was told the count (Art. 11(2))."),
    "not_the_organiser": lambda err: gettext("Only the organiser of the initiative applies to "
                                             "the election commission (Art. 11(2))."),
    "refused": lambda err: gettext("The action was refused."),
    "not_found": lambda err: gettext("This initiative was not found, or it is not public."),
}
SIGNATURE: dict[str, Text] = {
    "collection_closed": lambda err: gettext("Signatures are not being collected now "
                                             "(Art. 10(8))."),
    "not_eligible": lambda err: gettext("This person is not a voter of the municipality "
                                        "(Art. 7)."),
    "already_signed": lambda err: gettext("This person has already signed this initiative; a "
                                          "person signs once and in one way only."),
    "invalid_certifier": lambda err: gettext("Choose who certified the signature and give "
                                             "their name (Art. 4(1))."),
    "nothing_to_withdraw": lambda err: gettext("You have no online signature for this "
                                               "initiative to withdraw."),
    "refused": lambda err: gettext("The action was refused."),
}


def _import_refused(err: Any) -> str:
    if err.reason == "wrong_header":
        return gettext("The file's header is wrong: missing %(missing)s; unexpected "
                       "%(unexpected)s. Nothing was imported.",
                       missing=", ".join(err.missing) or "-",
                       unexpected=", ".join(err.unexpected) or "-")
    if err.reason == "empty":
        return gettext("The file is empty. Nothing was imported.")
    if err.reason in UPLOAD:
        return f"{_upload(err.reason)} {gettext('Nothing was imported.')}"
    if err.reason == "not_utf8":
        return gettext("The file is not UTF-8 text. Nothing was imported.")
    return gettext("The file is not valid %(format)s (line %(line)s). Nothing was imported.",
                   format="JSON" if err.reason == "not_json" else "CSV", line=err.line or "?")


OBSERVERS: dict[str, Text] = {
    "station_limit": lambda err: gettext(
        "Polling station No. %(station)s already has %(limit)s observers named by the "
        "initiators: the law allows at most two observers per polling station for each "
        "initiator (Art. 18(3)). Name the observer for another station, or withdraw an "
        "earlier request first.", station=err.params.get("station", "-"),
        limit=err.params.get("limit", 2)),
    "not_initiator": lambda err: gettext(
        "Only the initiators of this referendum may name its observers (Art. 18(3))."),
    "not_council_initiative": lambda err: gettext(
        "The commission enters observers on the initiators' behalf only for a referendum the "
        "council initiated (Art. 18(3)); the residents who applied name theirs themselves."),
    "no_initiative": lambda err: gettext("This referendum has no initiative whose initiators "
                                         "could name observers."),
    "kind_not_allowed": lambda err: gettext(
        "You may not record this kind of observer: CVK records its members, the municipal "
        "commission its members and the media; the initiators name theirs by request "
        "(Art. 18(3))."),
    "wrong_station": lambda err: gettext("The polling station is not in this municipality."),
    "too_late": lambda err: gettext(
        "Observers can no longer be accredited: the referendum's days ended at %(when)s.",
        when=moment_text(err.params["ends_at"])
        if err.params.get("ends_at") else "-"),
    "name_required": lambda err: gettext("Write the observer's name."),
    "bad_characters": lambda err: gettext(
        "The name, e-mail address or organisation contains control or invisible characters "
        "(such as text-direction marks). Type them again without those characters."),
    "email_invalid": lambda err: gettext(
        "Write the observer's e-mail address: the invitation to sign in is sent there."),
    "too_long": lambda err: gettext("The text is too long."),
    "no_observers": lambda err: gettext("Name at least one observer."),
    "duplicate": lambda err: gettext(
        "%(email)s is already named for polling station No. %(station)s.",
        email=err.params.get("email", "-"), station=err.params.get("station", "-")),
    "not_accreditation": lambda err: gettext("This is not an observer accreditation request."),
    "not_requested": lambda err: gettext("This request has already been decided."),
    "not_approved": lambda err: gettext(
        "Only an accredited observer's accreditation can be revoked; this one is not (or no "
        "longer) accredited. Nothing was changed."),
}


OBSERVATION: dict[str, Text] = {
    "not_observer_here": lambda err: gettext(
        "You are not an observer of this polling station for this referendum."),
    "observer_rights_ended": lambda err: gettext(
        "Your rights as an observer have ended (the referendum's observation days are over, "
        "or your accreditation was revoked). Nothing was received."),
    "invalid": lambda err: gettext(
        "An answer does not fit its question. Check the numbers and try again."),
    "invalid_answer": lambda err: gettext(
        "An answer does not fit its question. Check the numbers and try again."),
    "no_answers": lambda err: gettext(
        "Answer at least one question before sending. Nothing was received."),
    "too_many_answers": lambda err: gettext(
        "A checklist page has at most %(limit)s answers, one per question. Nothing was "
        "received.", limit=getattr(err, "limit", "-")),
    "too_many_photos": lambda err: gettext(
        "A report carries at most %(limit)s photos. Remove some and send it again. Nothing "
        "was received.", limit=getattr(err, "limit", "-")),
    "invalid_json": lambda err: _observation_json(err),
    "invalid_key": lambda err: gettext(
        "The phone sent this without its own identifier. Reload the page and fill it in "
        "again."),
    "already_corrected": lambda err: gettext(
        "This has been corrected already. Correct the latest version instead."),
    "send_again": lambda err: gettext(
        "Someone sent answers to the same questions at the same moment. It will be sent "
        "again shortly."),
    "append_only": lambda err: gettext(
        "What was sent cannot be changed; send a correction instead."),
    "key_reused": lambda err: gettext(
        "This identifier was already used for another entry, so this one was not received. "
        "Fill it in again: the app gives it a new identifier."),
    "not_correctable": lambda err: gettext(
        "Only your own earlier entry can be corrected."),
    "invalid_field": lambda err: gettext(
        "The field %(field)s must be %(expected)s. Nothing was received.",
        field=field_name(getattr(err, "field", "-")),
        expected=_expected(getattr(err, "expected", ""))),
}

def _fault(err: Any, name: str) -> Any:
    return (getattr(err, "params", None) or {}).get(name, "-")


#: What is wrong with a request's JSON body (``portal.jsonbody``), by reason; the place of the
#: fault (line and column, the byte, the key) is a parameter of the sentence.
JSON_BODY: dict[str, Text] = {
    "content_type": lambda err: gettext(
        "The request is not sent as JSON (its content type is %(type)s; application/json is "
        "expected).", type=_fault(err, "content_type")),
    "byte_order_mark": lambda err: gettext(
        "The request body starts with a byte-order mark (BOM), which is not allowed. Send the "
        "JSON without it."),
    "not_utf8": lambda err: gettext(
        "The request body is not UTF-8 text (byte %(byte)s).", byte=_fault(err, "byte")),
    "syntax": lambda err: gettext(
        "The request body is not valid JSON (line %(line)s, column %(column)s).",
        line=_fault(err, "line"), column=_fault(err, "column")),
    "duplicate_key": lambda err: gettext(
        "The field “%(key)s” is named twice in the same object of the request body.",
        key=_fault(err, "key")),
    "too_deep": lambda err: gettext("The request body is nested too deeply."),
    "not_strict": lambda err: gettext(
        "The request body holds a value JSON does not allow (NaN, Infinity or a number too "
        "long)."),
    "not_object": lambda err: gettext(
        "The request body must be a JSON object (in curly braces), not a list or a single "
        "value."),
}


def json_body_text(err: Any) -> str:
    """The sentence for a refused JSON body (``portal.jsonbody.BodyNotJson`` or a refusal with
    its ``reason`` and ``params``) in the request's language."""
    text = JSON_BODY.get(getattr(err, "reason", "") or "", JSON_BODY["syntax"])
    return text(err)


def _observation_json(err: Any) -> str:
    return f"{json_body_text(err)} {gettext('Nothing was received.')}"


CORRECTION: dict[str, Text] = {
    "not_own": lambda err: gettext(
        "Only your own earlier report can be corrected. Nothing was received."),
    "other_kind": lambda err: gettext(
        "A report corrects only an observer's report, not another kind of entry. Nothing was "
        "received."),
    "other_station": lambda err: gettext(
        "The report you correct was filed at another polling station: a correction must be "
        "for the same polling station. Nothing was received."),
    "other_referendum": lambda err: gettext(
        "The report you correct was filed for another referendum: a correction must be for "
        "the same referendum. Nothing was received."),
}


def _expected(kind: str) -> str:
    names = {
        "id": gettext("a whole number (an identifier)"),
        "text": gettext("text"),
        "list": gettext("a list"),
        "answer": gettext("yes/no or a whole number"),
        "object": gettext("an object"),
        "base64": gettext("an image encoded in base64"),
    }
    return names.get(kind, kind or "-")


def _observation_photo(err: Any) -> str:
    return gettext("The photo is not an accepted image (JPEG, PNG, WebP or HEIC up to 8 MB).")


def _weak_password(err: Any) -> str:
    from portal.accounts.services import MIN_PASSWORD_LENGTH

    return gettext("The password must have at least %(min)s characters.",
                   min=MIN_PASSWORD_LENGTH)


_TWO_FACTOR = Reason(lambda err: gettext("The code is wrong, expired or already used."), 401)
ACCOUNT: dict[str, Reason] = {
    "refused": Reason(lambda err: gettext("The request was refused.")),
    "invalid_credentials": Reason(lambda err: gettext("Wrong e-mail address or password."), 401),
    "invalid_credentials.current_password": Reason(lambda err: gettext(
        "The current password is wrong.")),
    "invalid_two_factor_code": _TWO_FACTOR,
    "invalid_two_factor_code.enrolment": Reason(_TWO_FACTOR.text),
    "invalid_one_time_code": Reason(lambda err: gettext(
        "The code is wrong or has expired. Ask for a new one."), 401),
    "invalid_invitation": Reason(lambda err: gettext(
        "This invitation link cannot be used: it was used already, replaced by a newer one or "
        "has expired. Ask the administrator for a new one."), 404),
    "weak_password": Reason(_weak_password),
    "invalid_membership": Reason(lambda err: gettext(
        "This role cannot be given for that commission or municipality.")),
}


def _provider(err: Any) -> str:
    from portal.accounts.oidc import label

    provider = getattr(err, "provider", None)
    return label(provider) if hasattr(provider, "kind") else "-"


def _level(value: object) -> str:
    from portal.accounts.oidc import level_name

    return level_name(value if isinstance(value, str) else None)


VOTER_SIGN_IN: dict[str, Text] = {
    "unavailable": lambda err: gettext(
        "The sign-in service %(provider)s is not answering at the moment. Please try again in "
        "a few minutes or choose another way to sign in.", provider=_provider(err)),
    "level_too_low": lambda err: gettext(
        "You signed in at %(provider)s with a method whose level of assurance is %(level)s; "
        "signing in here needs at least the %(required)s level. Please sign in with eParaksts "
        "Mobile, Smart-ID or an eID card.", provider=_provider(err),
        level=_level(err.params.get("level")),
        required=_level(getattr(getattr(err, "provider", None), "minimum_level", None))),
    "no_personal_code": lambda err: gettext(
        "%(provider)s did not give us a valid Latvian personal code, so we cannot find you in "
        "the register of voters. Sign in another way or ask your election commission.",
        provider=_provider(err)),
    "invalid_token": lambda err: gettext(
        "The answer from %(provider)s could not be verified, so you are not signed in. Please "
        "try again; if it happens again, tell the portal's administrator.",
        provider=_provider(err)),
    "failed": lambda err: gettext(
        "Sign-in through %(provider)s did not complete. Please try again.",
        provider=_provider(err)),
}


def _texts(prefix: str, table: dict[str, Text], status: int) -> dict[str, Reason]:
    return {f"{prefix}.{code}": Reason(text, status) for code, text in table.items()}


def _each(prefix: str, reasons: Any, text: Text, status: int = 400) -> dict[str, Reason]:
    return {f"{prefix}.{reason}": Reason(text, status) for reason in reasons}


_IMPORT_REASONS = ("wrong_header", "empty", "not_utf8", "not_json", "not_csv", *UPLOAD)
REGISTRY: dict[str, Reason] = {
    **{f"case.{code}": reason for code, reason in CASE.items()},
    **_each("case.invalid_photo", (*UPLOAD, "too_many"), _photo),
    **{f"messaging.{code}": reason for code, reason in MESSAGING.items()},
    **_texts("voting", VOTING, 422),
    **_texts("voting.ballot_refused", BALLOT, 422),
    **_each("voting.ballot_refused", ("proof", "malformed"), VOTING["ballot_refused"], 422),
    **_texts("voting.protocol_refused", PROTOCOL, 422),
    **_texts("voting.invalid_setup", SETUP, 422),
    **_texts("voting.trustee_key_refused", TRUSTEE_KEY, 422),
    **_texts("voting.share_refused", SHARE, 422),
    **_texts("voting.home_voting_refused", HOME_VOTING, 422),
    **_each("voting.results_not_ready",
            ("base_figure_missing", "protocols_missing", "envelopes_pending"),
            _results_not_ready, 422),
    **{f"etvr.{code}": reason for code, reason in ETVR.items()},
    **_texts("initiative", INITIATIVE, 422),
    "initiative.not_found": Reason(INITIATIVE["not_found"], 404),
    **_texts("signature", SIGNATURE, 422),
    "observers.accreditation_refused": Reason(lambda err: gettext(
        "The accreditation was refused."), 422),
    **_texts("observers.accreditation_refused", OBSERVERS, 422),
    **_texts("observation", OBSERVATION, 400),
    "observation.not_observer_here": Reason(OBSERVATION["not_observer_here"], 403),
    "observation.observer_rights_ended": Reason(OBSERVATION["observer_rights_ended"], 403),
    "observation.send_again": Reason(OBSERVATION["send_again"], 409),
    "observation.key_reused": Reason(OBSERVATION["key_reused"], 409),
    "observation.already_corrected": Reason(OBSERVATION["already_corrected"], 409),
    "observation.not_correctable": Reason(OBSERVATION["not_correctable"], 422),
    **_texts("observation.not_correctable", CORRECTION, 422),
    **_each("observation.invalid_json", JSON_BODY, _observation_json),
    "observation.invalid_photo": Reason(_observation_photo, 400),
    **_each("observation.invalid_photo", UPLOAD, _observation_photo),
    "register_import.refused": Reason(_import_refused, 422),
    **_each("register_import.refused", _IMPORT_REASONS, _import_refused, 422),
    "service_token.refused.unknown_owner": Reason(lambda err: gettext(
        "There is no active account with this e-mail address.")),
    "service_token.refused.owner_without_cases": Reason(lambda err: gettext(
        "This account does not work with cases, so a token acting as it could do nothing. "
        "Choose an official's account.")),
    **{f"account.{code}": reason for code, reason in ACCOUNT.items()},
    "voter_sign_in.refused": Reason(VOTER_SIGN_IN["failed"]),
    **_texts("voter_sign_in.refused", VOTER_SIGN_IN, 400),
    "upload.rejected": Reason(UPLOAD["damaged"]),
    **_texts("upload.rejected", UPLOAD, 400),
}
#: The answer to a request refused before any rule was asked (by HTTP status): its code and
#: sentence. A JSON request too large gets its own sentence (``http_refusal``).
HTTP: dict[int, tuple[str, Callable[[], str]]] = {
    400: ("bad_request", lambda: gettext(
        "The request could not be understood. Check the form and try again.")),
    401: ("sign_in_required", lambda: gettext("Please sign in to continue.")),
    403: ("forbidden", lambda: gettext("You do not have access to this page.")),
    404: ("not_found", lambda: gettext("The page was not found.")),
    405: ("method_not_allowed", lambda: gettext("This action is not possible here.")),
    409: ("conflict", lambda: gettext(
        "Someone else changed this at the same time. Reload and try again.")),
    413: ("too_large", lambda: gettext("The upload is too large.")),
    429: ("too_many_requests", lambda: gettext(
        "Too many attempts. Wait a little and try again.")),
    500: ("server_error", lambda: gettext(
        "Something went wrong on our side. Nothing was saved; please try again.")),
}


def http_refusal(status: int, *, json: bool = False, limit: int | None = None) -> tuple[str, str]:
    """The code and sentence of an answer with HTTP ``status`` (a JSON request that is too
    large: a sentence about the request, with ``limit`` in bytes)."""
    if status == 413 and json:
        limit = limit or current_app.config.get("MAX_CONTENT_LENGTH") or 0
        megabytes = max(1, limit // (1024 * 1024))
        return "request_too_large", gettext(
            "The request is too large (at most %(limit)s MB). Nothing was saved.",
            limit=megabytes)
    code, text = HTTP.get(status, HTTP[500])
    return code, text()


GENERIC = Reason(lambda err: gettext("The request was refused."), 400)


def reason_of(err: Refused) -> Reason:
    """The registry entry of a refusal: its exact key, else its rule's (``area.code``)."""
    return (REGISTRY.get(err.reason_code) or REGISTRY.get(f"{err.area}.{err.code}")
            or GENERIC)


def refusal_text(err: Refused) -> str:
    """The sentence for ``err`` in the request's language."""
    return str(reason_of(err).text(err))


def upload_refusal_text(reason: str) -> str:
    """The sentence for a refusal ``reason`` of the upload check (a damaged file if unknown)."""
    return UPLOAD.get(reason, UPLOAD["damaged"])(None)
