"""The permission matrix: every route of ``app.url_map`` (HEAD/OPTIONS aside) and every Socket.IO
event handler the app registers, tried as every role, compared with the table below.

A route or event missing from the table fails the test with its name: a new route cannot ship
without someone deciding who may use it. "Refused" means 401, 403, 404 or a redirect to the
sign-in page; "allowed" is any other answer, and never a 500.

The objects the URLs point at are made once (``matrix_support.build_world``) in Ādaži; "member"
and "chair" belong to Ādaži's commission, "member_other" to Rīga's. Every request runs inside a
savepoint that is rolled back, so an allowed POST of one role does not change what the next
sees. "trustee" and "internet_chair" belong to the internet polling-station commission, which has
no municipality: they reach only what is public, their own account and messages, and (the
trustee of this referendum alone) the trustee's page (Art. 20(4)-(6)). POSTs carry a plausible body where the permission check comes after form validation.
"""
from __future__ import annotations

import io
from typing import Any

from flask_socketio import SocketIO

from tests.case_factories import PNG
from tests.security.matrix_support import (
    AUTHENTICATED,
    EVERYONE,
    build_world,
    client_for,
    routes,
    urls_for,
)
from tests.voting_support import ONLINE_MONDAY

ROLES = ("anonymous", "service_token", "voter", "observer", "member", "member_other", "chair",
         "officer", "admin", "trustee", "internet_chair")
R = frozenset
NOBODY: frozenset[str] = R()
PUBLIC = EVERYONE | {"service_token"}
SIGNED_IN = AUTHENTICATED
OFFICIALS = R({"member", "member_other", "chair", "officer", "admin"})
ADA_COMMISSION = R({"member", "chair"})
COMMISSIONS = R({"member", "member_other", "chair"})
CVK = R({"officer", "admin"})
INTERNET_COMMISSION = R({"trustee", "internet_chair"})
ADMIN = R({"admin"})
# Who sees the Ādaži case: the observer who filed it, Ādaži's commission and CVK.
CASE_READERS = R({"observer"}) | ADA_COMMISSION | CVK
# The thread was started by the Ādaži member to CVK: its participants are that member and the
# CVK officers' desk (the administrator is not on it).
THREAD = R({"member", "officer"})

# One entry per (METHOD, endpoint): the roles that get a non-refusal.
EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    # --- public pages and machinery ------------------------------------------------------
    ("GET", "static"): PUBLIC,
    ("GET", "main.index"): PUBLIC,
    ("GET", "main.healthz"): PUBLIC,
    ("POST", "main.set_language"): PUBLIC,
    # The demo clock exists only when DEMO_CLOCK is set (never in production); elsewhere 404.
    ("POST", "main.demo_clock_jump"): NOBODY,
    ("GET", "ops.readyz"): PUBLIC,
    ("GET", "ops.metrics"): NOBODY,  # only from the operator's networks (METRICS_ALLOW)
    ("GET", "ops.readyz_details"): NOBODY,  # as /metrics
    ("GET", "cases_api.openapi"): PUBLIC,
    # --- sign-in -------------------------------------------------------------------------
    ("GET", "accounts.login"): PUBLIC,
    ("POST", "accounts.login"): PUBLIC,
    ("POST", "accounts.logout"): PUBLIC,
    # Succeeds for the signed in, and then ends (by design) on the sign-in page.
    ("POST", "accounts.logout_everywhere"): NOBODY,
    # Steps of a pending sign-in: without one everybody is sent back to /login.
    ("GET", "accounts.two_factor"): NOBODY,
    ("POST", "accounts.two_factor"): NOBODY,
    ("GET", "accounts.voter_code"): NOBODY,
    ("POST", "accounts.voter_code"): NOBODY,
    ("GET", "accounts.voter_login"): PUBLIC,
    ("POST", "accounts.voter_login"): PUBLIC,
    # No identity provider is configured in the matrix's app (VOTER_IDENTITY_PROVIDERS=otp): 404.
    ("GET", "accounts.voter_oidc_start"): NOBODY,
    ("GET", "accounts.voter_oidc_callback"): NOBODY,
    ("GET", "accounts.account"): SIGNED_IN,
    ("POST", "accounts.account"): SIGNED_IN,
    ("GET", "accounts.enrol_two_factor"): SIGNED_IN,
    ("POST", "accounts.enrol_two_factor"): SIGNED_IN,
    ("GET", "accounts.recovery_codes"): SIGNED_IN,
    # Only with a valid link (the matrix's token is not one).
    ("GET", "accounts.invitation"): NOBODY,
    ("POST", "accounts.invitation"): NOBODY,
    ("POST", "accounts.regenerate_recovery_codes"): SIGNED_IN,
    # --- administration and audit --------------------------------------------------------
    ("GET", "admin.users"): ADMIN,
    ("POST", "admin.create_user"): ADMIN,
    ("GET", "admin.user"): ADMIN,
    ("POST", "admin.grant"): ADMIN,
    ("POST", "admin.revoke"): ADMIN,
    ("POST", "admin.reinvite"): ADMIN,
    ("GET", "audit.index"): ADMIN,
    ("POST", "audit.verify"): ADMIN,
    # Signed checkpoints of the audit log (seq, head, time): CVK and observers keep copies.
    ("GET", "audit.checkpoints"): CVK | R({"observer"}),
    ("GET", "audit.checkpoints_json"): CVK | R({"observer"}),
    # --- cases ---------------------------------------------------------------------------
    ("GET", "cases.queue"): SIGNED_IN,  # each sees only their own part of the queue
    ("GET", "case_dashboard.dashboard"): CVK,
    ("GET", "cases.export_csv"): CVK,
    ("GET", "cases.case_page"): CASE_READERS,
    ("GET", "cases.photo"): CASE_READERS,
    ("POST", "cases.comment"): CASE_READERS,
    ("POST", "cases.add_photo"): CASE_READERS,  # the observer may add to their own report
    ("POST", "cases.open_thread"): CASE_READERS,
    # Triage of an observer report is the commission's move (CVK only follows it).
    ("POST", "cases.transition"): ADA_COMMISSION,
    ("POST", "cases.assign"): ADA_COMMISSION | CVK,
    ("POST", "cases.change_deadline"): R({"chair"}) | CVK,  # service-level deadlines only
    ("GET", "cases.report"): R({"observer"}),
    ("POST", "cases.report"): R({"observer"}),
    ("GET", "cases.complaint"): R({"voter", "observer"}),
    ("POST", "cases.complaint"): R({"voter", "observer"}),
    ("GET", "cases.query"): COMMISSIONS,
    ("POST", "cases.query"): COMMISSIONS,
    ("POST", "cases.save_filter"): SIGNED_IN,  # one's own saved queue filters
    ("POST", "cases.delete_filter"): R({"member"}),  # only the owner's filter
    ("GET", "cases.tokens"): ADMIN,
    ("POST", "cases.issue_token"): ADMIN,
    ("POST", "cases.revoke_token"): ADMIN,
    # Bearer-token API: cookies never authenticate; the token acts as the Ādaži chair.
    ("GET", "cases_api.listCases"): R({"service_token"}),
    ("POST", "cases_api.createCase"): R({"service_token"}),
    ("GET", "cases_api.getCase"): R({"service_token"}),
    ("POST", "cases_api.commentOnCase"): R({"service_token"}),
    ("POST", "cases_api.transitionCase"): R({"service_token"}),
    # --- register ------------------------------------------------------------------------
    ("GET", "register.import_page"): R({"chair", "admin"}),
    ("POST", "register.import_page"): R({"chair", "admin"}),
    ("GET", "register.lookup"): COMMISSIONS,
    ("POST", "register.lookup"): COMMISSIONS,
    # --- initiatives ---------------------------------------------------------------------
    ("GET", "initiatives.index"): PUBLIC,
    ("GET", "initiatives.show"): PUBLIC,  # decided "can": public (Art. 10(7))
    ("GET", "initiatives.board"): PUBLIC,  # the public signature board
    ("GET", "initiatives.board_json"): PUBLIC,
    ("GET", "initiatives.board_count_json"): PUBLIC,  # the count the pages poll
    # Issued only when the commission's check finishes: 404 for everybody before.
    ("GET", "initiatives.decision_pdf"): NOBODY,
    ("GET", "initiatives.decision_signature"): NOBODY,
    ("POST", "initiatives.withdraw"): R({"voter"}),
    ("GET", "initiatives.new"): R({"voter"}),
    ("POST", "initiatives.new"): R({"voter"}),
    ("POST", "initiatives.sign"): R({"voter"}),
    ("POST", "initiatives.register_signature"): ADA_COMMISSION,
    ("POST", "initiatives.decide"): R({"chair"}),
    ("POST", "initiatives.check"): R({"chair"}),
    # Art. 11(2): the organiser (the voter who submitted it) or the commission for them.
    ("POST", "initiatives.apply"): R({"voter", "chair"}),
    # --- messages ------------------------------------------------------------------------
    ("GET", "messages.index"): SIGNED_IN,
    # The internet commission starts no thread (CVK may start one with any of its members).
    ("GET", "messages.new_thread"): SIGNED_IN - INTERNET_COMMISSION,
    ("POST", "messages.new_thread"): SIGNED_IN - INTERNET_COMMISSION,
    ("GET", "messages.search"): SIGNED_IN,  # searches only one's own threads
    ("GET", "messages.thread"): THREAD,
    ("POST", "messages.post"): THREAD,
    ("GET", "messages.message_fragment"): THREAD,
    ("GET", "messages.history"): THREAD,
    ("GET", "messages.read_by"): THREAD,
    ("GET", "messages.edit"): R({"member"}),  # only the author (tested below too)
    ("POST", "messages.edit"): R({"member"}),
    ("POST", "messages.mark_read"): THREAD,
    ("POST", "messages.close"): THREAD,
    ("POST", "messages.add_participant"): THREAD,
    ("GET", "messages.attachment"): THREAD,
    ("GET", "messages.export"): THREAD,
    # --- voting --------------------------------------------------------------------------
    ("GET", "voting.index"): PUBLIC,
    ("GET", "voting.vote"): PUBLIC,  # the page explains how to sign in to vote
    ("GET", "voting.board"): PUBLIC,  # the bulletin board is public by design
    ("GET", "voting.record"): PUBLIC,  # the election record (public data only)
    ("GET", "voting.checkpoints"): PUBLIC,  # the board's signed checkpoints (in the record too)
    ("GET", "voting.results"): PUBLIC,
    # Published only once results are approved: 404 for everybody while voting is open.
    ("GET", "voting.protocols"): NOBODY,
    ("GET", "voting.protocol_pdf"): NOBODY,
    ("GET", "voting.protocol_signature"): NOBODY,
    ("GET", "voting_api.turnout"): PUBLIC,  # figures only for VIEW_LIVE_TURNOUT (tested below)
    ("GET", "voting_api.board_entry"): PUBLIC,  # a tracker on the public bulletin board
    ("GET", "voting_api.board_entries"): PUBLIC,  # board entries for the second-device check
    ("GET", "voting_api.manifest"): PUBLIC,  # the frozen manifest, public like the record
    ("GET", "voting.check"): PUBLIC,  # the second-device check page needs no sign-in
    ("GET", "voting_api.election"): R({"voter"}),
    ("POST", "voting_api.cast"): R({"voter"}),
    ("POST", "voting_api.audit_ballot"): R({"voter"}),
    ("GET", "voting_admin.new"): R({"chair", "admin"}),
    ("POST", "voting_admin.new"): R({"chair", "admin"}),
    ("GET", "voting_admin.manage"): R({"chair", "admin"}),
    ("POST", "voting_admin.trustees"): R({"chair", "admin"}),
    ("POST", "voting_admin.threshold"): R({"chair", "admin"}),
    # No key generation was started in this scenario: nobody has a transcript to fetch.
    ("GET", "voting_admin.key_generation_transcript"): NOBODY,
    ("POST", "voting_admin.stage_action"): R({"chair", "admin"}),
    ("GET", "voting_admin.station"): ADA_COMMISSION,
    ("POST", "voting_admin.station"): ADA_COMMISSION,
    ("GET", "voting_admin.protocols"): ADA_COMMISSION,
    ("POST", "voting_admin.protocols"): ADA_COMMISSION,
    ("GET", "voting.home_voting.request_form"): R({"voter"}),
    ("POST", "voting.home_voting.request_form"): R({"voter"}),
    ("GET", "voting.home_voting.requests"): ADA_COMMISSION,
    ("POST", "voting.home_voting.requests"): ADA_COMMISSION,
    # The fixture case is an observer report, not a home-voting request: 404 for the commission.
    ("POST", "voting.home_voting.decide"): NOBODY,
    # No protocol exists while voting is open: 404 for the commission, 403 for the rest.
    ("POST", "voting_admin.confirm"): NOBODY,
    # Observers (Art. 18(3)): a voter's right to name them is personal (whether they are the
    # initiator is the referendum's question: refused with 422); Ādaži's commission enters a
    # council's; Ādaži's commission and CVK accredit; every commission and CVK read the table.
    ("GET", "observers.nominate"): R({"voter", "member", "chair"}),
    ("POST", "observers.nominate"): R({"voter", "member", "chair"}),
    ("GET", "observers.accreditations"): ADA_COMMISSION | CVK,
    ("POST", "observers.accreditations"): ADA_COMMISSION | CVK,
    # The fixture case is an observer report, not an accreditation request: 404 for everyone.
    ("POST", "observers.decide"): NOBODY,
    # Revoking an accreditation: the referendum's municipal commission and CVK only.
    ("GET", "observers.revoke"): ADA_COMMISSION | CVK,
    ("POST", "observers.revoke"): ADA_COMMISSION | CVK,
    ("GET", "observers.stations"): OFFICIALS,
    ("GET", "observers.stations_csv"): OFFICIALS,
    # Observation: the observer app and its outbox for observers; its manifest and service
    # worker are public files; a station's answers and their photos for Ādaži's commission
    # and CVK; the home page's "needs action" part for every commission (its own) and CVK.
    ("GET", "observation.observer_app"): R({"observer"}),
    ("GET", "observation.manifest"): PUBLIC,
    ("GET", "observation.service_worker"): PUBLIC,
    ("GET", "observation.outbox_key"): R({"observer"}),
    ("POST", "observation.receive_checklist"): R({"observer"}),
    ("POST", "observation.receive_report"): R({"observer"}),
    ("GET", "observation.station_page"): ADA_COMMISSION | CVK,
    ("GET", "observation.station_without_referendum"): ADA_COMMISSION | CVK,
    ("GET", "observation.photo"): ADA_COMMISSION | CVK,
    ("GET", "observation.attention"): OFFICIALS,
    # Only the referendum's trustees (members of the internet commission, Art. 20(6)).
    ("GET", "voting_admin.trustee"): R({"trustee"}),
    ("POST", "voting_admin.trustee"): R({"trustee"}),
}

# Where one rule's ``any(...)`` choices differ: (METHOD, endpoint, last path segment).
BY_CHOICE: dict[tuple[str, str, str], frozenset[str]] = {
    # Approving the results is the municipal commission's (its chair's), not CVK's.
    ("POST", "voting_admin.stage_action", "approve"): R({"chair"}),
}

# Socket.IO events (server handlers), as the roles that get through.
EXPECTED_EVENTS: dict[str, frozenset[str]] = {
    "connect": SIGNED_IN,
    # Only connections ``connect`` accepted end here (it lowers the connection gauge).
    "disconnect": SIGNED_IN,
    "join": THREAD,
    "typing": THREAD,
    "read": THREAD,
    # Following observations live: commissions (their own municipality) and CVK.
    "observation.watch": OFFICIALS,
}


def bodies(world: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """Plausible form bodies for POSTs whose permission check follows form validation."""
    case = world.extra["case"]
    scenario = world.extra["scenario"]
    return {
        ("POST", "cases.transition"): {"transition": "triage", "version": case.version},
        ("POST", "cases.comment"): {"text": "Matricas komentārs"},
        ("POST", "cases.assign"): {"assignee_id": world.users["member"].id,
                                   "version": case.version},
        ("POST", "cases.change_deadline"): {"deadline": "2026-03-20T10:00", "reason": "Jo."},
        ("POST", "cases.add_photo"): {"photo": (io.BytesIO(PNG), "p.png")},
        ("POST", "messages.post"): {"text": "Matricas atbilde"},
        ("POST", "messages.edit"): {"text": "Labots teksts"},
        ("POST", "messages.add_participant"): {"recipient": "cvk"},
        ("POST", "admin.grant"): {"role": "observer", "municipality_id": str(
            scenario.municipality.id)},
        ("POST", "voting_admin.station"): {"station_id": scenario.station.id,
                                           "personal_code": scenario.codes[1],
                                           "action": "lookup"},
        ("POST", "voting_admin.protocols"): {"station_id": scenario.station.id,
                                             "ballots_issued": 0, "votes_for": 0,
                                             "votes_against": 0, "invalid": 0},
        ("POST", "register.lookup"): {"case_id": str(scenario.referendum.case_id),
                                      "personal_code": scenario.codes[1]},
        ("POST", "cases_api.commentOnCase"): {"json": {"text": "API komentārs"}},
    }


def is_refusal(response: Any) -> bool:
    if response.status_code in (401, 403, 404):
        return True
    return response.status_code in (301, 302, 303, 307) and \
        response.headers.get("Location", "").split("?")[0].endswith("/login")


def _client(app: Any, world: Any, clock: Any, role: str) -> Any:
    if role == "service_token":
        return client_for(app, None, clock, token=world.service_token)
    return client_for(app, world.users[role], clock)


def _world(app, db_session, clock, keys, people):
    return build_world(app, db_session, clock, keys, people)


def test_every_route_answers_each_role_as_declared(app, db_session, clock, keys, people,
                                                   connection):
    world = _world(app, db_session, clock, keys, people)
    clock.set(ONLINE_MONDAY)  # online voting is open: the voter may fetch the election
    posted = bodies(world)
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    for method, endpoint, rule in routes(app):
        key = (method, endpoint)
        seen.add(key)
        if key not in EXPECTED:
            problems.append(f"{method} {rule.rule} ({endpoint}) is not in the permission table")
            continue
        body = posted.get(key, {})
        for url in urls_for(rule, world.values):
            expected = BY_CHOICE.get((method, endpoint, url.rsplit("/", 1)[-1]), EXPECTED[key])
            for role in ROLES:
                client = _client(app, world, clock, role)
                savepoint = connection.begin_nested()
                try:
                    if "json" in body:
                        response = client.open(url, method=method, json=body["json"])
                    elif body:
                        data = {k: (io.BytesIO(v[0].getvalue()), v[1]) if isinstance(v, tuple)
                                else v for k, v in body.items()}
                        response = client.open(url, method=method, data=data,
                                               content_type="multipart/form-data")
                    else:
                        response = client.open(url, method=method)
                    response.get_data()  # run streamed bodies (CSV export) inside the savepoint
                    response.close()
                finally:
                    if savepoint.is_active:
                        savepoint.rollback()
                    db_session.expire_all()
                if response.status_code >= 500:
                    problems.append(f"{method} {url} as {role}: {response.status_code}")
                    continue
                allowed = not is_refusal(response)
                if allowed != (role in expected):
                    problems.append(
                        f"{method} {url} ({endpoint}) as {role}: "
                        f"{'allowed' if allowed else 'refused'} ({response.status_code}), "
                        f"table says {'allowed' if role in expected else 'refused'}")
    stale = set(EXPECTED) - seen
    problems.extend(f"table entry {m} {e} matches no route" for m, e in sorted(stale))
    assert not problems, "\n".join(problems)


def _handlers(app: Any) -> dict[str, Any]:
    sio: SocketIO = app.extensions["socketio"]
    return dict(sio.server.handlers.get("/", {}))


def test_every_socketio_event_answers_each_role_as_declared(app, db_session, clock, keys,
                                                            people):
    world = _world(app, db_session, clock, keys, people)
    sio: SocketIO = app.extensions["socketio"]
    thread_id = world.values["thread_id"]
    problems = [f"Socket.IO event {name!r} is not in the permission table"
                for name in _handlers(app) if name not in EXPECTED_EVENTS]
    problems += [f"table event {name!r} has no handler" for name in EXPECTED_EVENTS
                 if name not in _handlers(app)]

    def listener(role: str) -> Any:
        sock = sio.test_client(app, flask_test_client=_client(app, world, clock, role))
        assert sock.emit("join", {"thread_id": thread_id}, callback=True)["ok"]
        sock.get_received()
        return sock

    listeners = {"member": listener("member"), "officer": listener("officer")}
    for role in ROLES:
        sock = sio.test_client(app, flask_test_client=_client(app, world, clock, role))
        outcome = {"connect": sock.is_connected()}
        if sock.is_connected():
            joined = sock.emit("join", {"thread_id": thread_id}, callback=True)
            outcome["join"] = bool(joined and joined.get("ok"))
            other = listeners["officer" if role == "member" else "member"]
            other.get_received()
            sock.emit("typing", {"thread_id": thread_id})
            outcome["typing"] = any(e["name"] == "typing" for e in other.get_received())
            read = sock.emit("read", {"thread_id": thread_id,
                                      "message_id": world.values["message_id"]}, callback=True)
            outcome["read"] = bool(read and read.get("ok"))
            watched = sock.emit("observation.watch", {}, callback=True)
            outcome["observation.watch"] = bool(watched and watched.get("ok"))
            sock.disconnect()
        else:
            outcome.update({"join": False, "typing": False, "read": False,
                            "observation.watch": False})
        for event, allowed in outcome.items():
            if event in EXPECTED_EVENTS and allowed != (role in EXPECTED_EVENTS[event]):
                problems.append(f"Socket.IO {event!r} as {role}: "
                                f"{'allowed' if allowed else 'refused'}, table says "
                                f"{'allowed' if role in EXPECTED_EVENTS[event] else 'refused'}")
    for sock in listeners.values():
        sock.disconnect()
    assert not problems, "\n".join(problems)


def test_a_participant_cannot_edit_another_participants_message(app, db_session, clock, keys,
                                                               people):
    world = _world(app, db_session, clock, keys, people)
    thread_id, message_id = world.values["thread_id"], world.values["message_id"]
    officer = client_for(app, world.users["officer"], clock)
    response = officer.post(f"/messages/{thread_id}/m/{message_id}/edit",
                            data={"text": "Pārrakstīts"})
    assert response.status_code == 403
    assert officer.get(f"/messages/{thread_id}/m/{message_id}/edit").status_code == 403
    page = client_for(app, world.users["member"], clock).get(f"/messages/{thread_id}")
    assert "Pārrakstīts" not in page.get_data(as_text=True)


def test_live_turnout_figures_only_for_those_who_follow_turnout(app, db_session, clock, keys,
                                                                people):
    world = _world(app, db_session, clock, keys, people)
    url = f"/api/voting/{world.values['referendum_id']}/turnout"
    for role, sees in (("anonymous", False), ("voter", False), ("observer", True),
                       ("member", True), ("officer", True), ("trustee", False),
                       ("internet_chair", False)):
        body = client_for(app, world.users[role], clock).get(url).get_json()
        assert ("participants" in body) is sees, role
