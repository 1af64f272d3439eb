"""Messaging pages: thread list with unread counts, thread page, new thread, post / reply / edit,
attachment download, search and signed export. Plain forms; ``js/messages.js`` adds live updates.

Threads are loaded only through ``portal.messages.access.access_thread`` and attachments through
``messaging.services.access_attachment``, which check participation and audit refusals. A
refusal propagates to ``portal.refusals``, which keeps its audit entry and nothing else.
"""
from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import RequestEntityTooLarge

from messaging import directory, rules, runtime, services
from messaging.exceptions import Refused
from messaging.markdown import plain_excerpt, render
from messaging.models import Message, Thread
from portal.database import commit
from portal.messages import work  # noqa: F401 - registers the area's work provider (portal.work)
from portal.messages.access import ThreadPermission, access_thread
from portal.messages.forms import ActionForm, AddParticipantForm, EditForm, NewThreadForm, PostForm
from portal.refusals import answer_page, on_refusal
from portal.web import audit_context, clock, db
from referendum_core import audit
from referendum_core.organisation import Municipality

bp = Blueprint("messages", __name__, url_prefix="/messages")

def _wants_json() -> bool:
    return request.headers.get("X-Requested-With") == "fetch" or (
        request.accept_mimetypes.best == "application/json")


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_err: RequestEntityTooLarge) -> Any:
    """An upload over ``MAX_CONTENT_LENGTH`` is stopped by its declared length, before it is read;
    the refusal is audited like any other."""
    actor = current_user if current_user.is_authenticated else None
    audit.record(db(), clock(), actor, "messaging.refused", context=audit_context(),
                 attempted=request.endpoint or "upload", reason="upload_too_large",
                 content_length=request.content_length)
    return answer_page(Refused("upload_too_large"))


def _voter_municipalities(user: Any) -> set[int] | None:
    """Where a voter may send an enquiry: their declared residence from the population register
    when it is loaded; None (any commission) when the register does not know them."""
    if not user.person_ref:
        return None
    from referendum_core.register import find_person

    record = find_person(db(), user.person_ref)
    if record is None or record.residence_municipality_id is None:
        return None
    return {record.residence_municipality_id}


def _target_choices(user: Any) -> list[tuple[str, str]]:
    """Recipients the rules let ``user`` start a thread with (values for the select)."""
    standing = rules.standing_of(user, _voter_municipalities(user))
    choices: list[tuple[str, str]] = []
    if rules.may_start_thread(standing, rules.Target(rules.TargetKind.CVK)):
        choices.append(("cvk", gettext("Central Election Commission (officers)")))
    locale = _locale()
    for muni in db().scalars(select(Municipality).order_by(Municipality.name)):
        if rules.may_start_thread(standing, rules.Target(rules.TargetKind.COMMISSION,
                                                         municipality_id=muni.id)):
            choices.append((f"commission:{muni.id}", gettext(
                "Election commission of %(name)s", name=muni.display_name(locale))))
    if standing.is_official or standing.observer_municipality_ids:
        choices.append(("person", gettext("A person (enter the e-mail address)")))
    return choices


def _locale() -> str:
    from portal.extensions import current_locale

    return current_locale()


def _target_from(value: str, email: str | None, attempted: str) -> rules.Target:
    """The recipient chosen in the form.

    Raises:
        Refused: ``unknown_person`` (audited) or ``no_recipient``.
    """
    if value == "cvk":
        return rules.Target(rules.TargetKind.CVK)
    if value.startswith("commission:"):
        return rules.Target(rules.TargetKind.COMMISSION, municipality_id=int(value.split(":")[1]))
    if value == "person":
        user_id = directory.user_id_by_email(db(), email or "")
        if user_id is None:
            audit.record(db(), clock(), current_user, "messaging.refused",
                         context=audit_context(), attempted=attempted, reason="unknown_person")
            raise Refused("unknown_person")
        from portal.accounts.models import User

        person = db().get(User, user_id)
        return rules.Target(rules.TargetKind.PERSON, user_id=user_id,
                            person=rules.standing_of(person))
    raise Refused("no_recipient")


def _uploads(field: Any) -> list[services.Upload]:
    """The uploaded file, read at most one byte past the limit (a larger file is refused by the
    service without being read further)."""
    storage = field.data
    if storage is None or not getattr(storage, "filename", ""):
        return []
    limit = runtime.settings().max_attachment_bytes
    return [services.Upload(storage.filename, storage.stream.read(limit + 1))]


# Pages -------------------------------------------------------------------------------------

@bp.get("/")
@login_required
def index() -> Any:
    threads = services.threads_for(db(), current_user)
    unread = services.unread_counts(db(), current_user, [t.id for t in threads])
    subjects = services.subjects_of(db(), threads)
    rows = [{"thread": t, "subject": subjects[t.id], "unread": unread.get(t.id, 0)}
            for t in threads]
    return render_template("messages/index.html", rows=rows,
                           can_start=bool(_target_choices(current_user)))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new_thread() -> Any:
    form = NewThreadForm()
    form.recipient.choices = _target_choices(current_user)
    if not form.recipient.choices:
        abort(403)

    def page(message: str | None = None, status: int = 200) -> Any:
        return render_template("messages/new.html", form=form, error=message), status

    if request.method == "GET" or not form.validate_on_submit():
        return page(status=400 if request.method == "POST" else 200)
    on_refusal(page)
    target = _target_from(form.recipient.data, form.recipient_email.data, "create_thread")
    thread = services.create_thread(
        db(), clock(), current_user, subject=form.subject.data, text=form.text.data,
        targets=[target], uploads=_uploads(form.attachment),
        voter_municipality_ids=_voter_municipalities(current_user), context=audit_context())
    commit()
    flash(gettext("Conversation started."), "success")
    return redirect(url_for("messages.thread", thread_id=thread.id))


def _message_views(thread: Thread, messages: list[Message]) -> list[dict[str, Any]]:
    authors = directory.people(db(), {m.author_id for m in messages if m.author_id})
    window = runtime.settings().edit_window
    now = clock().now()
    by_id = {m.id: m for m in messages}
    views = []
    for m in messages:
        text = services.text_of(db(), m)
        parent = by_id.get(m.reply_to_id) if m.reply_to_id else None
        if m.reply_to_id and parent is None:
            parent = db().get(Message, m.reply_to_id)
        views.append({
            "message": m,
            "author": authors[m.author_id].display_name if m.author_id in authors else None,
            "html": Markup(render(text)),  # noqa: S704 - markdown-it (html off) + nh3 sanitised
            "reply_excerpt": plain_excerpt(services.text_of(db(), parent), 80) if parent else None,
            "attachments": [(a, services.attachment_name(db(), a, thread.id))
                            for a in m.attachments],
            "can_edit": (m.author_id == current_user.id and not thread.is_closed
                         and now - m.created_at <= window),
            "revisions": len(m.revisions),
        })
    return views


def _read_by(thread: Thread, last_id: int) -> list[str]:
    """Names of the others who have read ``thread`` up to message ``last_id`` (read receipts)."""
    read = services.read_positions(db(), thread)
    names = directory.people(db(), set(read))
    return sorted(names[uid].display_name for uid, pos in read.items()
                  if pos >= last_id and uid != current_user.id and uid in names)


THREAD_PAGE_SIZE = 50


def _thread_page(thread: Thread, form: PostForm | None = None, error: str | None = None,
                 status: int = 200) -> Any:
    before = request.args.get("before", type=int)
    messages, has_earlier = services.recent_messages(db(), thread, before_id=before,
                                                     limit=THREAD_PAGE_SIZE)
    last_id = messages[-1].id if messages else 0
    read_by = _read_by(thread, last_id)
    add_form = AddParticipantForm()
    add_form.recipient.choices = _target_choices(current_user)
    return render_template(
        "messages/thread.html", thread=thread, subject=services.subject_of(db(), thread),
        messages=_message_views(thread, messages), form=form or PostForm(), error=error,
        earlier_url=(url_for("messages.thread", thread_id=thread.id, before=messages[0].id)
                     if has_earlier and messages else None),
        newer_url=url_for("messages.thread", thread_id=thread.id) if before else None,
        participants=_participant_labels(thread), read_by=read_by, add_form=add_form,
        action_form=ActionForm(),
        can_close=rules.may_close_thread(rules.standing_of(current_user), is_participant=True),
    ), status


def _participant_labels(thread: Thread) -> list[str]:
    from referendum_core.organisation import Commission

    labels = []
    persons = directory.people(db(), {p.user_id for p in thread.participants if p.user_id})
    for p in thread.participants:
        if p.user_id is not None:
            labels.append(persons[p.user_id].display_name if p.user_id in persons else "?")
        else:
            commission = db().get(Commission, p.commission_id)
            name = commission.display_name(_locale()) if commission else "?"
            labels.append(gettext("%(name)s (officers)", name=name)
                          if p.role == directory.CVK_OFFICER else name)
    return labels


@bp.get("/<int:thread_id>")
@login_required
def thread(thread_id: int) -> Any:
    found = access_thread(db(), current_user, thread_id, ThreadPermission.READ)
    form = PostForm()
    reply_to = request.args.get("reply_to", type=int)
    if reply_to:
        form.reply_to.data = str(reply_to)
    services.mark_read(db(), clock(), current_user, found)
    return _thread_page(found, form)


@bp.post("/<int:thread_id>/post")
@login_required
def post(thread_id: int) -> Any:
    form = PostForm()
    is_valid = form.validate_on_submit()
    if not is_valid and _wants_json():
        raise Refused("empty_text")
    found = access_thread(db(), current_user, thread_id, ThreadPermission.POST_MESSAGE)
    on_refusal(lambda msg, status: _thread_page(found, form, msg, status))
    if not is_valid:
        raise Refused("empty_text")
    reply_to = int(form.reply_to.data) if (form.reply_to.data or "").isdigit() else None
    message = services.post_message(db(), clock(), current_user, found, form.text.data,
                                    reply_to_id=reply_to, uploads=_uploads(form.attachment),
                                    context=audit_context())
    commit()
    if _wants_json():
        return jsonify({"ok": True, "thread_id": thread_id, "message_id": message.id})
    return redirect(url_for("messages.thread", thread_id=thread_id, _anchor=f"m{message.id}"))


_WITH_PARTS = (joinedload(Message.attachments), joinedload(Message.revisions))


@bp.get("/<int:thread_id>/m/<int:message_id>")
@login_required
def message_fragment(thread_id: int, message_id: int) -> Any:
    """One rendered message (live updates fetch it after a ``message.new`` event: every open
    page of the thread asks, so the message comes with its attachments and revisions in one
    statement)."""
    found = access_thread(db(), current_user, thread_id, ThreadPermission.READ)
    message = db().get(Message, message_id, options=_WITH_PARTS)
    if message is None or message.thread_id != found.id:
        abort(404)
    [view] = _message_views(found, [message])
    return render_template("messages/_message.html", m=view, thread=found)


@bp.get("/<int:thread_id>/read-by")
@login_required
def read_by(thread_id: int) -> Any:
    """The "Read by" line for the thread's latest message (live pages fetch it after a
    ``message.read`` event, which carries ids only)."""
    found = access_thread(db(), current_user, thread_id, ThreadPermission.READ)
    last_id = db().scalar(select(func.max(Message.id)).where(Message.thread_id == found.id)) or 0
    names = _read_by(found, last_id)
    text = gettext("Read by: %(names)s", names=", ".join(names)) if names else ""
    return jsonify({"names": names, "text": text, "message_id": last_id})


@bp.get("/<int:thread_id>/m/<int:message_id>/history")
@login_required
def history(thread_id: int, message_id: int) -> Any:
    """Earlier versions of an edited message, newest first, for the thread's participants."""
    found = access_thread(db(), current_user, thread_id, ThreadPermission.READ)
    message = db().get(Message, message_id)
    if message is None or message.thread_id != found.id:
        abort(404)
    [view] = _message_views(found, [message])
    versions = [{"written_at": written, "replaced_at": replaced,
                 "html": Markup(render(text))}  # noqa: S704 - sanitised as in the thread
                for written, replaced, text in reversed(services.revision_texts(db(), message))]
    return render_template("messages/history.html", thread=found, m=view, versions=versions,
                           subject=services.subject_of(db(), found))


@bp.route("/<int:thread_id>/m/<int:message_id>/edit", methods=["GET", "POST"])
@login_required
def edit(thread_id: int, message_id: int) -> Any:
    found = access_thread(db(), current_user, thread_id, ThreadPermission.READ)
    message = db().get(Message, message_id)
    if message is None or message.thread_id != found.id:
        abort(404)
    if request.method == "GET" and message.author_id != current_user.id:
        abort(403)  # only the author may edit (the service refuses a POST, audited)
    form = EditForm()

    def page(error: str | None = None, status: int = 200) -> Any:
        return render_template("messages/edit.html", form=form, thread=found, message=message,
                               error=error), status

    if request.method == "GET":
        form.text.data = services.text_of(db(), message)
        return page()
    on_refusal(page)
    if not form.validate_on_submit():
        raise Refused("empty_text")
    services.edit_message(db(), clock(), current_user, message_id, form.text.data,
                          context=audit_context())
    commit()
    flash(gettext("Message changed; the earlier text is kept in the record."), "success")
    return redirect(url_for("messages.thread", thread_id=thread_id, _anchor=f"m{message_id}"))


@bp.post("/<int:thread_id>/read")
@login_required
def mark_read(thread_id: int) -> Any:
    found = access_thread(db(), current_user, thread_id, ThreadPermission.MARK_READ)
    up_to = request.form.get("message_id", type=int)
    state = services.mark_read(db(), clock(), current_user, found, up_to)
    return jsonify({"ok": True, "last_read_message_id": state.last_read_message_id})


@bp.post("/<int:thread_id>/close")
@login_required
def close(thread_id: int) -> Any:
    if not ActionForm().validate_on_submit():
        abort(400)
    services.close_thread(db(), clock(), current_user, thread_id, context=audit_context())
    flash(gettext("Conversation closed."), "success")
    return redirect(url_for("messages.thread", thread_id=thread_id))


@bp.post("/<int:thread_id>/participants")
@login_required
def add_participant(thread_id: int) -> Any:
    found = access_thread(db(), current_user, thread_id, ThreadPermission.ADD_PARTICIPANT)
    form = AddParticipantForm()
    form.recipient.choices = _target_choices(current_user)
    on_refusal(lambda msg, status: _thread_page(found, error=msg, status=status))
    if not form.validate_on_submit():
        raise Refused("no_recipient")
    target = _target_from(form.recipient.data, form.recipient_email.data, "add_participant")
    services.add_participant(db(), clock(), current_user, found, target,
                             context=audit_context())
    flash(gettext("Participant added."), "success")
    return redirect(url_for("messages.thread", thread_id=thread_id))


@bp.get("/<int:thread_id>/attachments/<int:attachment_id>")
@login_required
def attachment(thread_id: int, attachment_id: int) -> Any:
    row, name, data = services.access_attachment(db(), clock(), current_user, thread_id,
                                                 attachment_id, context=audit_context())
    response = Response(data, mimetype=row.content_type)
    response.headers["Content-Disposition"] = _disposition(name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


def _disposition(name: str) -> str:
    from urllib.parse import quote

    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


@bp.get("/search")
@login_required
def search() -> Any:
    query = (request.args.get("q") or "").strip()[:200]
    hits = services.search_messages(db(), current_user, query) if query else []
    subjects = services.subjects_of(db(), list({h.thread.id: h.thread for h in hits}.values()))
    return render_template("messages/search.html", query=query, subjects=subjects,
                           hits=[(h, plain_excerpt(h.text, 200)) for h in hits])


@bp.get("/<int:thread_id>/export")
@login_required
def export(thread_id: int) -> Any:
    result = services.export_thread(db(), clock(), current_user, thread_id,
                                    context=audit_context())
    response = Response(result.bundle(), mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{result.name}-signed.zip"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
