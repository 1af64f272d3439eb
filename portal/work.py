"""Work that finds you: what needs the signed-in person, counted beside the navigation and
listed on the home page ("needs your action"), most urgent first.

Each area declares what it knows in a *work provider* and registers it here; this module knows
no area. A provider has two functions of a ``WorkContext`` (the request's session, the person,
the time and the working-day calendar):

* ``count(ctx)`` → ``Count`` rows: a number shown beside one navigation entry (named by its
  endpoint). It runs on every page a signed-in person opens, so it answers with one or a few
  aggregate queries, never a query per row;
* ``items(ctx, limit)`` → at most ``limit`` ``WorkItem`` rows (what, where, the deadline and the
  rule it comes from), for the home page only.

Both are computed at most once per request (kept on ``flask.g``); the counts only when the page
layout (``templates/base.html``) asks for them, so fragments and JSON answers cost nothing.
Answer nothing (``[]``) for a person the area has nothing for; check permissions with
``portal.permissions`` as any view does.

Adding work from another area (for instance critical observer reports the commission must act
on) is a module of that area::

    from portal.work import Count, WorkItem, WorkProvider, register

    def _count(ctx): ...   # [Count("cases.queue", n, ngettext(...), is_urgent=True)]
    def _items(ctx, limit): ...   # [WorkItem(title, url, deadline_at, reason, is_urgent=True)]

    register(WorkProvider("critical_reports", _count, _items, order=5))

imported once by the area's blueprint module (the app factory imports every blueprint), as
``portal/cases/work.py`` is by ``portal/cases/views.py``. Registering the same name again
replaces the earlier provider (a module reloaded in tests does no harm). Items without a
deadline come after those with one; urgent items (overdue, critical) come first; among the
same deadline the more severe (``WorkItem.severity``) come first. One thing is one item: a
case that another area lists on its own terms (a referendum's case, left to the referendum's
items) is not listed again by the cases area.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app, g, has_request_context, session
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.database import on_commit
from portal.security import SESSION_ID_KEY
from portal.ttl_cache import TtlCache
from referendum_core.calendar import WorkingDayCalendar

HOME_LIMIT = 12  # items on the home page; the areas' own pages list the rest


@dataclass(frozen=True)
class WorkContext:
    """What a provider is asked with."""

    session: Session
    user: Any
    now: datetime
    calendar: WorkingDayCalendar
    locale: str = "lv"


@dataclass(frozen=True)
class Count:
    """A number shown beside the navigation entry ``endpoint``, and what it counts in words
    ("3 unread"), for screen readers and the tooltip."""

    endpoint: str
    number: int
    text: str
    is_urgent: bool = False


@dataclass(frozen=True)
class WorkItem:
    """One thing the person should do: ``title`` links to ``url``; ``reason`` says why it is
    theirs ("Awaiting your decision"); ``basis`` is the rule the deadline comes from."""

    title: str
    url: str
    reason: str
    deadline_at: datetime | None = None
    basis: str | None = None
    is_urgent: bool = False
    area: str = ""
    severity: int = 0  # among the same deadline, higher first (a critical report: 3, high: 2)

    def sort_key(self) -> tuple[Any, ...]:
        """Urgent first, then by deadline (none last), then the more severe, then by title."""
        return (not self.is_urgent, self.deadline_at is None,
                self.deadline_at.timestamp() if self.deadline_at else 0.0, -self.severity,
                self.title)


@dataclass(frozen=True)
class WorkProvider:
    """What one area counts and lists for a person (see the module docstring)."""

    name: str
    count: Callable[[WorkContext], list[Count]]
    items: Callable[[WorkContext, int], list[WorkItem]]
    order: int = 50


@dataclass
class WorkRegistry:
    """Providers by name, asked in ``order``."""

    providers: dict[str, WorkProvider] = field(default_factory=dict)

    def register(self, provider: WorkProvider) -> WorkProvider:
        self.providers[provider.name] = provider
        return provider

    def ordered(self) -> list[WorkProvider]:
        return sorted(self.providers.values(), key=lambda p: (p.order, p.name))


REGISTRY = WorkRegistry()
register = REGISTRY.register


def _context() -> WorkContext:
    from portal.web import calendar, clock, db

    return WorkContext(session=db(), user=current_user, now=clock().now(), calendar=calendar(),
                       locale=str(g.get("locale", "lv")))


def counts_by_endpoint() -> dict[str, list[Count]]:
    """Counts of the signed-in person per navigation endpoint (empty when signed out),
    computed once per request and kept ``WORK_COUNTS_CACHE_SECONDS`` for the person's next
    pages (see ``_key``); the home page, which lists the work itself, counts afresh."""
    if not getattr(current_user, "is_authenticated", False):
        return {}
    if "work_counts" not in g:
        ctx = _context()
        cache, key = _counts_cache(), _key(ctx)
        if g.get("work_listed"):
            g.work_counts = cache.put(key, _compute_counts(ctx))
        else:
            g.work_counts = cache.get(key, lambda: _compute_counts(ctx))
    return g.work_counts


def _compute_counts(ctx: WorkContext) -> dict[str, list[Count]]:
    found: dict[str, list[Count]] = {}
    for provider in REGISTRY.ordered():
        for count in provider.count(ctx):
            if count.number > 0:
                found.setdefault(count.endpoint, []).append(count)
    return found


# The counts run on every page an official opens (several aggregate statements), so they are
# kept a few seconds per person and session. What the person does themselves shows at once: a
# commit of anything they wrote (a page, a Socket.IO event, the API with their token, a task
# run within their request) drops their kept counts in this process and moves the *epoch* in
# their signed session cookie, which is part of the key, so another process serving their next
# page counts afresh too. What others do (a message sent to them, a case given to them), and a
# task that runs later on a worker, shows within the period.
EPOCH_KEY = "work_epoch"


def _key(ctx: WorkContext) -> tuple[Any, ...]:
    """Whose counts, in which session (two devices never share an entry), after which of their
    own writes, in which language and period; and under which memberships, so that a role
    granted counts anew at once (a role taken away ends the person's sessions)."""
    memberships = tuple(sorted(m.id for m in getattr(ctx.user, "memberships", ())))
    return (ctx.user.id, session.get(SESSION_ID_KEY), session.get(EPOCH_KEY, 0), ctx.locale,
            _period(ctx.now), memberships)


def _counts_cache() -> TtlCache[dict[str, list[Count]]]:
    cache = current_app.extensions.get("work_counts_cache")
    if cache is None:
        cache = current_app.extensions.setdefault("work_counts_cache", TtlCache(
            float(current_app.config.get("WORK_COUNTS_CACHE_SECONDS", 10)), max_entries=4096))
    return cache


def _period(now: datetime) -> int:
    """The portal clock's period, so that moving the clock (tests, the demo) also refreshes."""
    ttl = float(current_app.config.get("WORK_COUNTS_CACHE_SECONDS", 10))
    return int(now.timestamp() // ttl) if ttl > 0 else 0


def _acting_person_id() -> int | None:
    """Who the request acts for: the signed-in person as the request has already loaded them
    (Flask-Login keeps them on ``g``), else as its session names them (a task run within the
    request has an app context, and a ``g``, of its own), or the owner of the API token. Never
    loaded here: this runs inside a flush, where a query could wait on the flushing
    transaction's own lock (a task's transaction within the request, on SQLite)."""
    user = g.get("_login_user") or g.get("api_user")
    if user is not None and getattr(user, "is_authenticated", False):
        return int(user.id)
    named = str(session.get("_user_id") or "").split(":")[0]  # "<id>:<session epoch>"
    return int(named) if named.isdigit() else None


@event.listens_for(Session, "after_flush")
def _note_write(flushed: Session, _context: Any) -> None:
    """A flush within a request acting for a person (its own transaction, or a task's run
    within it) moves their epoch once it commits (never for a rolled-back one: what it wrote is
    gone). Audit entries are written without the unit of work (``referendum_core.audit``), so
    a read that is only audited flushes nothing and keeps the person's counts."""
    if not has_request_context() or g.get("work_epoch_moving"):
        return
    person_id = _acting_person_id()
    if person_id is None:
        return
    g.work_epoch_moving = True
    on_commit(lambda: _move_epoch(person_id))


def _move_epoch(person_id: int) -> None:
    _counts_cache().drop(lambda key: key[0] == person_id)
    if has_request_context():
        g.pop("work_epoch_moving", None)
        g.pop("work_counts", None)
        session[EPOCH_KEY] = (int(session.get(EPOCH_KEY, 0)) + 1) % 1_000_000


def items_for_home(limit: int = HOME_LIMIT) -> list[WorkItem]:
    """What needs the signed-in person, most urgent first (urgent, then by deadline)."""
    if not getattr(current_user, "is_authenticated", False):
        return []
    g.work_listed = True  # the counts beside the navigation then agree with this list
    ctx = _context()
    found = [item for provider in REGISTRY.ordered() for item in provider.items(ctx, limit)]
    return sorted(found, key=WorkItem.sort_key)[:limit]
