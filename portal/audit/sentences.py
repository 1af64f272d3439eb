"""The audit log read as sentences: one lv/en sentence per audit action, with the person's name,
the case number (L-000004) and the entry's detail fields filled in. An action without a sentence
of its own reads as a generic sentence, never as its code."""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.cases.labels import CASE_TYPES, SEVERITIES, STATES, TRANSITIONS, label
from referendum_core.audit import AuditEntry
from referendum_core.cases.models import Case
from referendum_core.initiatives import Initiative
from referendum_core.voting.models import Referendum

# %(actor)s is the person (or "The portal"), %(object)s what was acted on (a case number, a
# person's name, …); other names are the entry's detail fields.
SENTENCES: dict[str, Any] = {
    "2fa.enabled": _l("%(actor)s turned on two-step sign-in."),
    "2fa.failed": _l("%(actor)s entered a wrong two-step code."),
    "2fa.recovery_code_used": _l("%(actor)s signed in with a recovery code."),
    "2fa.recovery_codes_regenerated": _l("%(actor)s made new recovery codes."),
    "case.assigned": _l("%(actor)s assigned case %(object)s."),
    "case.commented": _l("%(actor)s commented on case %(object)s."),
    "case.deadline_changed": _l("%(actor)s changed the deadline of case %(object)s to "
                                "%(deadline)s."),
    "case.escalated": _l("The deadline of case %(object)s passed: %(notify)s."),
    "case.exported": _l("%(actor)s exported a list of cases."),
    "case.opened": _l("%(actor)s opened case %(object)s (%(case_type)s)."),
    "case.photo_added": _l("%(actor)s added a photo to case %(object)s."),
    "case.refused": _l("%(actor)s was refused a step on case %(object)s."),
    "account.refused": _l("%(actor)s was refused a step with an account."),
    "observation.checklist_received": _l("%(actor)s sent checklist answers from polling "
                                         "station %(object)s."),
    "observation.refused": _l("%(actor)s was refused sending observations."),
    "case.transition": _l("%(actor)s moved case %(object)s from “%(from_state)s” to "
                          "“%(to_state)s”."),
    "etvr.lookup": _l("%(actor)s looked a voter up in the register for case %(case)s."),
    "etvr.mark_refused": _l("%(actor)s was refused marking a voter for case %(case)s."),
    "etvr.refused": _l("%(actor)s was refused a step in the voter register."),
    "etvr.marked": _l("%(actor)s marked a voter as having voted for case %(case)s."),
    "initiative.applied": _l("%(actor)s applied the initiative %(object)s for the "
                             "signature check."),
    "initiative.check_started": _l("The signature check of the initiative %(object)s began "
                                   "(%(total)s signatures)."),
    "initiative.checked": _l("The signatures of the initiative %(object)s were checked: "
                             "%(valid)s valid of %(needed)s needed."),
    "initiative.collection_closed": _l("Signature collection for the initiative %(object)s "
                                       "closed with %(signatures)s signatures."),
    "initiative.decided": _l("%(actor)s decided on the initiative %(object)s."),
    "initiative.lapsed": _l("The initiative %(object)s lapsed."),
    "initiative.published": _l("The initiative %(object)s was published; signatures are "
                               "collected until %(ends_at)s."),
    "initiative.referendum_opened": _l("A referendum was called on the initiative %(object)s."),
    "initiative.refused": _l("%(actor)s was refused submitting an initiative."),
    "initiative.submitted": _l("%(actor)s submitted the initiative %(case)s."),
    "invitation.accepted": _l("%(actor)s accepted an invitation."),
    "invitation.created": _l("%(actor)s invited a new user."),
    "invitation.withdrawn": _l("%(actor)s withdrew the unused invitation of %(object)s."),
    "invitation.refused": _l("An invitation was refused (expired or already used)."),
    "login.failed": _l("%(actor)s entered a wrong password."),
    "login.failed_unknown": _l("Someone tried to sign in with an unknown e-mail address."),
    "login.success": _l("%(actor)s signed in."),
    "logout": _l("%(actor)s signed out."),
    "logout.everywhere": _l("%(actor)s signed out on every device."),
    "membership.granted": _l("%(actor)s gave %(object)s a role."),
    "membership.revoked": _l("%(actor)s took a role from %(object)s."),
    "message.edited": _l("%(actor)s edited a message."),
    "message.new": _l("%(actor)s wrote a message."),
    "messaging.archive_key_rotated": _l("%(actor)s changed the message archive key."),
    "messaging.case_thread_opened": _l("%(actor)s opened the conversation of case %(case)s."),
    "messaging.message_edited": _l("%(actor)s edited a message in %(object)s."),
    "messaging.message_posted": _l("%(actor)s wrote in %(object)s."),
    "messaging.notification_failed": _l("A notice of a new message could not be sent."),
    "messaging.participant_added": _l("%(actor)s added a participant to %(object)s."),
    "messaging.refused": _l("%(actor)s was refused a step in messages."),
    "messaging.thread_closed": _l("%(actor)s closed %(object)s."),
    "messaging.thread_created": _l("%(actor)s started %(object)s."),
    "messaging.thread_exported": _l("%(actor)s exported %(object)s (%(messages)s messages)."),
    "observers.accreditation_approved": _l("%(actor)s accredited the observer %(object)s."),
    "observers.accreditation_refused": _l("%(actor)s refused an observer's accreditation."),
    "observers.accreditation_requested": _l("%(actor)s asked for accreditation as an "
                                            "observer."),
    "observers.accreditation_revoked": _l("%(actor)s revoked an observer's accreditation "
                                          "(%(object)s)."),
    "observers.refused": _l("%(actor)s was refused a step on observers."),
    "observers.stations_exported": _l("%(actor)s downloaded the table of polling stations "
                                      "for observers."),
    "password.change_refused": _l("%(actor)s was refused a password change."),
    "password.changed": _l("%(actor)s changed their password."),
    "register.import_aborted": _l("%(actor)s tried a voter register import; nothing changed."),
    "register.import_refused": _l("%(actor)s was refused a voter register import."),
    "register.imported": _l("%(actor)s imported the voter register."),
    "register.voter_list_frozen": _l("The voter list of case %(case)s was fixed with "
                                     "%(voters)s voters."),
    "retention.purged": _l("Personal data past its keeping time was deleted."),
    "service_token.issued": _l("%(actor)s issued an access key for a connected system."),
    "service_token.refused": _l("A connected system's access key was refused."),
    "service_token.revoked": _l("%(actor)s revoked an access key of a connected system."),
    "signature.refused": _l("%(actor)s was refused signing the initiative %(object)s."),
    "signature.registered_in_person": _l("%(actor)s registered a signature given in person for "
                                         "the initiative %(object)s."),
    "signature.withdrawn": _l("%(actor)s withdrew their signature of the initiative "
                              "%(object)s."),
    "signature.signed_online": _l("%(actor)s signed the initiative %(object)s online."),
    "user.created": _l("%(actor)s created the account of %(object)s."),
    "voter.account_created": _l("A voter's account was created for %(object)s."),
    "voter.oidc_refused": _l("A voter's sign-in through an identity provider was refused."),
    "voting.ballot_audited": _l("A voter checked an encrypted ballot of referendum %(object)s "
                                "instead of casting it."),
    "voting.ballot_refused": _l("A ballot for referendum %(object)s was refused."),
    "voting.envelope_recorded": _l("%(actor)s recorded a home-voting envelope for referendum "
                                   "%(object)s."),
    "voting.envelopes_reconciled": _l("%(actor)s reconciled the home-voting envelopes of "
                                      "referendum %(object)s."),
    "voting.home_vote_recorded": _l("%(actor)s recorded a home vote for referendum "
                                    "%(object)s."),
    "voting.home_voting_refused": _l("A home voting request in referendum %(object)s "
                                     "was refused."),
    "voting.home_voting_requested": _l("%(actor)s asked for home voting in referendum "
                                       "%(object)s."),
    "voting.in_person_refused": _l("%(actor)s was refused marking a voter at a polling station "
                                   "in referendum %(object)s."),
    "voting.key_generation_message": _l("%(actor)s sent a key generation step for referendum "
                                        "%(object)s."),
    "voting.key_generation_message_refused": _l("%(actor)s's key generation step for referendum "
                                                "%(object)s was refused."),
    "voting.key_generation_started": _l("%(actor)s began the trustees' key generation for "
                                        "referendum %(object)s."),
    "voting.opened": _l("%(actor)s opened voting in referendum %(object)s."),
    "voting.polls_closed": _l("%(actor)s closed the polls of referendum %(object)s "
                              "(%(ballots)s online ballots)."),
    "voting.protocol_confirmed": _l("%(actor)s confirmed a polling station protocol of "
                                    "referendum %(object)s."),
    "voting.protocol_entered": _l("%(actor)s entered a polling station protocol of referendum "
                                  "%(object)s."),
    "voting.protocol_refused": _l("%(actor)s was refused a polling station protocol of "
                                  "referendum %(object)s."),
    "voting.results_approved": _l("%(actor)s approved the results of referendum %(object)s: "
                                  "%(votes_for)s for, %(votes_against)s against."),
    "voting.refused": _l("%(actor)s was refused a step in referendum %(object)s."),
    "voting.set_up": _l("%(actor)s set up referendum %(object)s for %(referendum_day)s."),
    "voting.share_accepted": _l("%(actor)s's partial decryption for referendum %(object)s was "
                                "accepted."),
    "voting.share_refused": _l("%(actor)s's partial decryption for referendum %(object)s was "
                               "refused."),
    "voting.tallied": _l("The online ballots of referendum %(object)s were counted."),
    "voting.trustee_key_added": _l("%(actor)s added a trustee's key to referendum %(object)s."),
    "voting.trustee_key_refused": _l("%(actor)s's trustee key for referendum %(object)s was "
                                     "refused."),
    "voting.trustees_chosen": _l("%(actor)s chose the trustees of referendum %(object)s."),
}
# The filter's groups of actions: key -> (name, the codes' beginnings).
ACTION_GROUPS = {
    "cases": (_l("Cases"), ("case.",)),
    "voting": (_l("Referendums and voting"), ("voting.",)),
    "initiatives": (_l("Initiatives and signatures"), ("initiative.", "signature.")),
    "messages": (_l("Messages"), ("messaging.", "message.")),
    "register": (_l("Voter register"), ("register.", "etvr.")),
    "sign-in": (_l("Sign-in and sign-out"), ("login", "logout", "2fa.", "password.")),
    "accounts": (_l("Accounts and roles"), ("user.", "membership.", "invitation.", "voter.")),
    "observers": (_l("Observers"), ("observers.", "observation.")),
    "systems": (_l("Connected systems"), ("service_token.",)),
}
OBJECT_FILTERS = {"Case": _l("Cases"), "Referendum": _l("Referendums"),
                  "Initiative": _l("Initiatives"), "Thread": _l("Conversations"),
                  "User": _l("Accounts")}
GENERIC = _l("%(actor)s acted on %(object)s.")
GENERIC_NO_OBJECT = _l("%(actor)s acted in the portal.")
OBJECT_TYPES = {"Thread": _l("the conversation no. %(id)s"),
                "User": _l("the account no. %(id)s")}
PORTAL = _l("The portal")
VALUE_TABLES = {"from_state": STATES, "to_state": STATES, "state": STATES,
                "case_type": CASE_TYPES,
                "transition": TRANSITIONS, "severity": SEVERITIES}
_FIELD = re.compile(r"%\((\w+)\)s")


def describe(session: Session, entries: Iterable[AuditEntry]) -> dict[int, str]:
    """Each entry's sentence in the current language, keyed by ``seq``."""
    entries = list(entries)
    names = _names(session, {e.actor_id for e in entries if e.actor_id is not None}
                   | {int(e.object_id) for e in entries
                      if e.object_type == "User" and (e.object_id or "").isdigit()})
    cases = _case_numbers(session, entries)
    return {e.seq: sentence(e, names, cases) for e in entries}


def sentence(entry: AuditEntry, names: Mapping[int, str], cases: Mapping[tuple, str]) -> str:
    """One entry as a sentence (the generic one when its action has none)."""
    try:
        detail = entry.detail_dict
    except ValueError:
        detail = {}
    values: dict[str, str] = {key: _value(key, val) for key, val in detail.items()}
    values["actor"] = _actor(entry, names)
    values["object"] = _object(entry, names, cases)
    values["case"] = cases.get(("Case", str(detail.get("case_id"))), values["object"])
    template = SENTENCES.get(entry.action)
    if template is None:
        template = GENERIC if values["object"] else GENERIC_NO_OBJECT
    text = str(template)
    # A field the entry lacks (an older entry) reads as nothing rather than breaking the page.
    fields = {name: values.get(name, "") for name in _FIELD.findall(text)}
    return text % fields


def _value(key: str, value: Any) -> str:
    if key in VALUE_TABLES and isinstance(value, str):
        return label(VALUE_TABLES[key], value)
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _actor(entry: AuditEntry, names: Mapping[int, str]) -> str:
    if entry.actor_id is not None and entry.actor_id in names:
        return names[entry.actor_id]
    if entry.actor_label in ("", "system"):
        return str(PORTAL)
    return entry.actor_label.split(" <", 1)[0]


def _object(entry: AuditEntry, names: Mapping[int, str], cases: Mapping[tuple, str]) -> str:
    kind, ident = entry.object_type, entry.object_id
    if not kind or ident is None:
        return ""
    if (kind, ident) in cases:
        return cases[(kind, ident)]
    if kind == "User" and ident.isdigit() and int(ident) in names:
        return names[int(ident)]
    if kind in OBJECT_TYPES:
        return str(OBJECT_TYPES[kind]) % {"id": ident}
    return ident


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


def _case_numbers(session: Session, entries: list[AuditEntry]) -> dict[tuple, str]:
    """(object type, id) -> the case number, for cases and the referendums and initiatives
    that are cases."""
    wanted: dict[str, set[int]] = {"Case": set(), "Referendum": set(), "Initiative": set()}
    for e in entries:
        if e.object_type in wanted and (e.object_id or "").isdigit():
            wanted[e.object_type].add(int(e.object_id))
        try:
            case_id = e.detail_dict.get("case_id")
        except ValueError:
            case_id = None
        if isinstance(case_id, int):
            wanted["Case"].add(case_id)
    out: dict[tuple, str] = {("Case", str(i)): Case.reference_of(i) for i in wanted["Case"]}
    for model, kind in ((Referendum, "Referendum"), (Initiative, "Initiative")):
        if wanted[kind]:
            rows = session.execute(select(model.id, model.case_id).where(
                model.id.in_(wanted[kind]))).all()
            out.update({(kind, str(i)): Case.reference_of(c) for i, c in rows})
    return out
