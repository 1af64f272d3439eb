"""The messages' work provider (``portal.work``): threads with messages the person has not read."""
from __future__ import annotations

from flask import url_for
from flask_babel import ngettext
from sqlalchemy import select

from messaging import services
from messaging.models import Thread
from portal.work import Count, WorkContext, WorkItem, WorkProvider, register


def _counts(ctx: WorkContext) -> list[Count]:
    threads = len(services.unread_threads(ctx.session, ctx.user))
    return [Count("messages.index", threads, ngettext(
        "%(num)d thread with unread messages",
        "%(num)d threads with unread messages", threads))]


def _items(ctx: WorkContext, limit: int) -> list[WorkItem]:
    unread = services.unread_threads(ctx.session, ctx.user)[:limit]
    if not unread:
        return []
    threads = list(ctx.session.scalars(select(Thread).where(
        Thread.id.in_([thread_id for thread_id, _n in unread]))))
    subjects = services.subjects_of(ctx.session, threads)
    return [WorkItem(title=subjects.get(thread_id, ""),
                     url=url_for("messages.thread", thread_id=thread_id),
                     reason=ngettext("%(num)d unread message", "%(num)d unread messages", count),
                     area="messages")
            for thread_id, count in unread if thread_id in subjects]


PROVIDER = register(WorkProvider("messages", _counts, _items, order=10))
