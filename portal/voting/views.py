"""Public and voter pages: the list of referendums, the voting page, the bulletin board with
tracker look-up and QR code, the results page and the downloadable record and protocols."""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import segno
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import func, select

from portal.permissions import Permission
from portal.voting import voter_work, work  # noqa: F401 - register the work providers
from portal.voting.access import can, get_referendum
from portal.voting.cast_token import page_cast_token
from portal.voting.charts import result_rows
from portal.voting.home_voting import bp as home_voting_bp
from portal.voting.status import status_line
from portal.web import clock, db
from referendum_core.checkpoints import board_checkpoints
from referendum_core.crypto.checkpoint import board_log
from referendum_core.crypto.file_names import ElectionFiles, TrusteeFiles, attachment
from referendum_core.register import voter_list_for
from referendum_core.voting.eligibility import find_alias, in_person_vote, is_on_list
from referendum_core.voting.models import AuditedBallot, BoardEntry, Referendum, Stage
from referendum_core.voting.results import (
    iter_election_record,
    live_turnout,
    protocols_document,
    result_of,
)
from referendum_core.voting.standing import standing_of

bp = Blueprint("voting", __name__, url_prefix="/voting")
bp.register_blueprint(home_voting_bp)
TRACKER = re.compile(r"^[0-9a-f]{64}$")
BOARD_PAGE = 50
RECORD_CHUNK = 64 * 1024


@bp.get("/")
def index() -> Any:
    """Every referendum set up in the portal, newest first."""
    referendums = list(db().scalars(select(Referendum).order_by(Referendum.referendum_day.desc(),
                                                                Referendum.id.desc())))
    now = clock().now()
    return render_template("voting/index.html", referendums=referendums,
                           statuses={r.id: status_line(db(), r, now) for r in referendums})


def _online_state(referendum: Referendum) -> str:
    if not referendum.has_online_voting:
        return "none"
    now = clock().now()
    if referendum.stage == Stage.SETUP or now < (referendum.online_opens_at or now):
        return "before"
    if referendum.stage == Stage.VOTING and now < (referendum.online_closes_at or now):
        return "open"
    return "after"


def _voting_phase(referendum: Referendum) -> str:
    """Where the referendum stands for a voter: "polling" while votes can still be cast (online
    or at a polling station), "counting" once the polls have closed (at 20:00 on referendum
    day, whether or not the commission has yet closed them on the portal), "results" once the
    results are approved and published."""
    if referendum.stage == Stage.APPROVED:
        return "results"
    if referendum.stage in (Stage.COUNTING, Stage.TALLIED) or \
            clock().now() >= referendum.polls_close_at:
        return "counting"
    return "polling"


@bp.get("/<int:referendum_id>")
def vote(referendum_id: int) -> Any:
    """The voting page: the question in Latvian or English, the voter's status, and (while
    online voting is open) the choice, encrypted in the browser."""
    referendum = get_referendum(referendum_id)
    state = _online_state(referendum)
    voter: dict[str, Any] = {}
    ref = getattr(current_user, "person_ref", None) if current_user.is_authenticated else None
    if ref:
        voter["on_list"] = is_on_list(db(), referendum, ref)
        voter["in_person"] = in_person_vote(db(), referendum, ref)
        alias = find_alias(db(), referendum, ref)
        voter["online_ballots"] = db().scalar(select(func.count()).select_from(BoardEntry).where(
            BoardEntry.referendum_id == referendum.id, BoardEntry.alias == alias)) if alias else 0
    can_vote = bool(ref) and voter.get("on_list") and not voter.get("in_person") \
        and state == "open"
    # The script casts with this token (``portal.voting.cast_token``), its CSRF token too.
    cast_token = page_cast_token(current_app, current_user, session, referendum.id) \
        if can_vote else None
    return render_template("voting/vote.html", referendum=referendum, state=state, voter=voter,
                           phase=_voting_phase(referendum), can_vote=can_vote,
                           cast_token=cast_token)


def _qr_svg(url: str) -> str:
    return segno.make(url, error="m").svg_inline(
        scale=4, title=gettext("QR code of the link to your ballot on the bulletin board"))


def _is_own_ballot(referendum: Referendum, entry: BoardEntry | None) -> bool:
    """Whether the board entry is a ballot of the signed-in voter: only they are told "your
    vote was cast" and shown its receipt (a link someone passes on shows just the entry)."""
    person_ref = getattr(current_user, "person_ref", None) \
        if current_user.is_authenticated else None
    if entry is None or not person_ref:
        return False
    return entry.alias == find_alias(db(), referendum, person_ref)


@bp.get("/<int:referendum_id>/board")
def board(referendum_id: int) -> Any:
    """The public bulletin board: its head, a tracker look-up (with a QR code of the link)
    and the latest entries. The head only ever grows; observers keep copies."""
    referendum = get_referendum(referendum_id)
    tracker = (request.args.get("tracker") or "").strip().lower()
    found = standing = None
    qr = None
    invalid = bool(tracker) and not TRACKER.match(tracker)
    if tracker and not invalid:
        standing = standing_of(db(), referendum, tracker)
        found = standing.entry if standing is not None else None
        if standing is not None:
            qr = _qr_svg(url_for("voting.board", referendum_id=referendum.id, tracker=tracker,
                                 _external=True))
    before = request.args.get("before", type=int)
    query = select(BoardEntry).where(BoardEntry.referendum_id == referendum.id)
    if before:
        query = query.where(BoardEntry.seq < before)
    entries = list(db().scalars(query.order_by(BoardEntry.seq.desc()).limit(BOARD_PAGE)))
    audits = list(db().scalars(select(AuditedBallot).where(
        AuditedBallot.referendum_id == referendum.id).order_by(AuditedBallot.id.desc())
        .limit(BOARD_PAGE)))
    return render_template("voting/board.html", referendum=referendum, tracker=tracker,
                           **_checkpoint_context(referendum),
                           invalid=invalid, found=found, standing=standing, qr=qr,
                           just_cast=_is_own_ballot(referendum, found), entries=entries,
                           audits=audits, older=entries[-1].seq if len(entries) == BOARD_PAGE
                           and entries[-1].seq > 1 else None), 422 if invalid else 200


@bp.get("/<int:referendum_id>/check")
def check(referendum_id: int) -> Any:
    """The public page a voter opens on a second device (the receipt's QR code or short link)
    to check the ballot actually cast: no sign-in; the script reads the randomness from the
    link's fragment, which browsers never send, and opens the ballot with the public board and
    manifest only (``js/check.js``)."""
    referendum = get_referendum(referendum_id)
    if referendum.manifest is None:
        abort(404)
    return render_template("voting/check.html", referendum=referendum)


@bp.get("/<int:referendum_id>/results")
def results(referendum_id: int) -> Any:
    """The public results: turnout against the Art. 22 base, validity, outcome, charts per
    polling station and online, and the downloads. Live turnout for observers until then."""
    referendum = get_referendum(referendum_id)
    result = result_of(db(), referendum)
    rows = result_rows(db(), referendum, result, gettext("Online"),
                       gettext("No. %(number)s %(name)s")) if result else []
    turnout = (live_turnout(db(), referendum) if result is None
               and can(Permission.VIEW_LIVE_TURNOUT, referendum) else None)
    voter_list = voter_list_for(db(), referendum.case_id)
    return render_template("voting/results.html", referendum=referendum, result=result,
                           status=status_line(db(), referendum, clock().now()),
                           **_checkpoint_context(referendum),
                           rows=rows, turnout=turnout, voter_list=voter_list,
                           municipality=referendum.municipality)


CHECKPOINTS_SHOWN = 10


def _checkpoint_context(referendum: Referendum) -> dict[str, Any]:
    """The latest signed checkpoints of the board and the key in the manifest."""
    if referendum.manifest is None:
        return {"checkpoints": [], "checkpoint_key": None}
    latest = board_checkpoints(db(), referendum)[-CHECKPOINTS_SHOWN:]
    return {"checkpoints": list(reversed(latest)),
            "checkpoint_key": (referendum.manifest_dict or {}).get("checkpoint_key")}


@bp.get("/<int:referendum_id>/checkpoints.json")
def checkpoints(referendum_id: int) -> Any:
    """Every signed checkpoint of the board (public, as the board is): ``referendum-verify
    --checkpoints`` takes this file."""
    referendum = get_referendum(referendum_id)
    if referendum.manifest is None:
        abort(404)
    body = {"log": board_log(referendum.election_id),
            "key": (referendum.manifest_dict or {}).get("checkpoint_key"),
            "checkpoints": [cp.to_json() for cp in board_checkpoints(db(), referendum)]}
    return Response(json.dumps(body, indent=1), mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="board-checkpoints-{referendum.id}.json"'})


def _in_chunks(pieces: Iterator[str], size: int = RECORD_CHUNK) -> Iterator[bytes]:
    """Join small text pieces into chunks of about ``size`` bytes for the response."""
    buffer: list[bytes] = []
    filled = 0
    for piece in pieces:
        data = piece.encode("utf-8")
        buffer.append(data)
        filled += len(data)
        if filled >= size:
            yield b"".join(buffer)
            buffer, filled = [], 0
    if buffer:
        yield b"".join(buffer)


@bp.get("/<int:referendum_id>/record.json")
def record(referendum_id: int) -> Any:
    """The election record (spec section 8) as it stands, streamed (manifest first, then one
    board entry per line, never the whole board in memory); ``referendum-verify`` checks it."""
    referendum = get_referendum(referendum_id)
    if referendum.manifest is None:
        abort(404)
    pieces = iter_election_record(db(), referendum)
    return Response(stream_with_context(_in_chunks(pieces)),
                    content_type="application/json; charset=utf-8", headers={
                        "Content-Disposition": attachment(
                            TrusteeFiles(referendum.election_id).record)})


@bp.get("/<int:referendum_id>/protocols.json")
def protocols(referendum_id: int) -> Any:
    """The confirmed station protocols; SHA-256 of these bytes is the record's
    ``in_person.protocol_sha256``."""
    referendum = get_referendum(referendum_id)
    if result_of(db(), referendum) is None:
        abort(404)
    return Response(protocols_document(db(), referendum), mimetype="application/json")


@bp.get("/<int:referendum_id>/results-protocol.pdf")
def protocol_pdf(referendum_id: int) -> Any:
    """The results protocol (PDF) made when the results were approved."""
    referendum = get_referendum(referendum_id)
    result = result_of(db(), referendum)
    if result is None or result.protocol_pdf is None:
        abort(404)
    return Response(result.protocol_pdf, mimetype="application/pdf", headers={
        "Content-Disposition": attachment(ElectionFiles(referendum.election_id).results_protocol)})


@bp.get("/<int:referendum_id>/results-protocol.pdf.asc")
def protocol_signature(referendum_id: int) -> Any:
    """The portal's detached OpenPGP signature of the results protocol."""
    referendum = get_referendum(referendum_id)
    result = result_of(db(), referendum)
    if result is None or not result.protocol_signature:
        abort(404)
    return Response(result.protocol_signature, mimetype="application/pgp-signature", headers={
        "Content-Disposition": attachment(
            ElectionFiles(referendum.election_id).results_signature)})
