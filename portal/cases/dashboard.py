"""CVK service-level dashboard: figures computed in SQL from case events (``metrics``), drawn as
server-rendered SVG bar charts; every bar links to the filtered case list behind it.

The figures of one scope (the municipalities the viewer may see) are kept for
``CASE_DASHBOARD_CACHE_SECONDS`` in this process: they aggregate every case, and several
officials opening the page within seconds of each other need not recompute them. Pages still
render per request (language, links), and the page says when its figures were computed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, current_app, render_template, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.cases.labels import CASE_TYPES, label, template_helpers
from portal.permissions import Permission, municipalities_for, permission_required
from portal.ttl_cache import TtlCache
from portal.web import clock, db
from referendum_core.cases import metrics
from referendum_core.organisation import Municipality

bp = Blueprint("case_dashboard", __name__, url_prefix="/cases/dashboard")
bp.context_processor(template_helpers)

LABEL_W, BAR_W, ROW_H, BAR_H, PAD = 230, 300, 30, 12, 8


@dataclass(frozen=True)
class Bar:
    y: int
    width: int
    text: str
    value: str
    href: str
    css: str


@dataclass
class Chart:
    """A horizontal bar chart; one row per group, one or two bars per row."""

    id: str
    title: str
    rows: list[tuple[str, list[tuple[float, str, str, str]]]]  # label, [(value, text, href, css)]
    target: float | None = None  # a vertical line at this value (e.g. 0.9)
    scale: float = 0.0
    bars: list[Bar] = field(default_factory=list)
    labels: list[tuple[int, str]] = field(default_factory=list)
    height: int = 0
    width: int = LABEL_W + BAR_W + 70
    target_x: int | None = None

    def layout(self) -> Chart:
        top = max([v for _, vals in self.rows for v, *_ in vals] + [self.target or 0, 1e-9])
        self.scale = top
        y = PAD
        for text, values in self.rows:
            self.labels.append((y + BAR_H, text))
            for i, (value, shown, href, css) in enumerate(values):
                width = max(1, int(BAR_W * value / top)) if value else 0
                self.bars.append(Bar(y + i * (BAR_H + 2), width, text, shown, href, css))
            y += ROW_H if len(values) < 2 else ROW_H + BAR_H
        self.height = y + PAD
        if self.target is not None:
            self.target_x = LABEL_W + int(BAR_W * self.target / top)
        return self


@dataclass(frozen=True)
class Figures:
    """Everything the dashboard shows, computed at ``computed_at`` from the case events."""

    computed_at: datetime
    fulfil: list[metrics.Durations]
    by_municipality: list[metrics.Durations]
    municipality_names: dict[int, str]
    submit: list[metrics.Durations]
    shares: list[metrics.Share]
    overdue: list[metrics.Overdue]
    totals: dict[str, int]


def compute_figures(session: Session, now: datetime, scope: frozenset[int] | None) -> Figures:
    """Run the service-level queries for the municipalities in ``scope`` (None = all)."""
    by_muni = sorted(metrics.time_to_fulfil(session, by="municipality", municipality_ids=scope),
                     key=lambda d: -d.count)[:12]
    names = dict(session.execute(select(Municipality.id, Municipality.name).where(
        Municipality.id.in_([d.group for d in by_muni if d.group is not None]))).all())
    return Figures(
        computed_at=now,
        fulfil=metrics.time_to_fulfil(session, municipality_ids=scope),
        by_municipality=by_muni, municipality_names=names,
        submit=metrics.time_to_submit(session, municipality_ids=scope),
        shares=metrics.first_time_right(session, municipality_ids=scope),
        overdue=metrics.past_deadline(session, now, municipality_ids=scope),
        totals=metrics.totals(session, now, municipality_ids=scope),
    )


class FiguresCache(TtlCache[Figures]):
    """Figures per scope for ``ttl`` seconds of this process's time (and of the portal clock,
    so moving the clock in tests or demos also refreshes them)."""

    def get_figures(self, session: Session, now: datetime,
                    scope: frozenset[int] | None) -> Figures:
        """Cached figures for ``scope``, or freshly computed ones."""
        period = int(now.timestamp() // self.ttl) if self.ttl > 0 else 0
        return self.get((scope, period), lambda: compute_figures(session, now, scope))


def figures_cache() -> FiguresCache:
    """This app's cache (one per app, so test apps never share figures)."""
    cache = current_app.extensions.get("case_dashboard_cache")
    if cache is None:
        cache = current_app.extensions.setdefault("case_dashboard_cache", FiguresCache(
            float(current_app.config.get("CASE_DASHBOARD_CACHE_SECONDS", 30))))
    return cache


def _cases(**args: Any) -> str:
    return url_for("cases.queue") + "?" + urlencode([(k, v) for k, v in args.items()
                                                    if v is not None])


def _hours(seconds: float) -> str:
    return gettext("%(h).1f h", h=seconds / 3600)


@bp.get("")
@permission_required(Permission.VIEW_DASHBOARD)
def dashboard() -> Any:
    visible = municipalities_for(current_user, Permission.VIEW_DASHBOARD)
    scope = None if visible is None else frozenset(visible)
    figures = figures_cache().get_figures(db(), clock().now(), scope)
    fulfil, by_muni, names = figures.fulfil, figures.by_municipality, figures.municipality_names
    submit, shares, overdue = figures.submit, figures.shares, figures.overdue
    charts = [
        Chart("fulfil-type", gettext("Time to fulfil (opened → closed): median and 90th "
                                     "percentile, hours"), [
            (label(CASE_TYPES, d.group), [
                (d.median_s, _hours(d.median_s), _cases(type=d.group, status="closed"), "bar"),
                (d.p90_s, _hours(d.p90_s), _cases(type=d.group, status="closed"),
                 "bar-secondary")]) for d in fulfil]),
        Chart("fulfil-municipality", gettext("Time to fulfil by municipality: median, hours"), [
            (names.get(d.group, "—"), [(d.median_s, _hours(d.median_s) + f" · n={d.count}",
                                        _cases(municipality=d.group, status="closed"), "bar")])
            for d in by_muni]),
        Chart("submit", gettext("Time to submit a request (form opened → filed): median, "
                                "minutes"), [
            (label(CASE_TYPES, d.group), [(d.median_s, gettext("%(m).1f min", m=d.median_s / 60),
                                           _cases(type=d.group), "bar")]) for d in submit]),
        Chart("first-time-right", gettext("Completed without the requester re-submitting "
                                          "(target above 90 %)"), [
            (label(CASE_TYPES, s.group), [(s.share, f"{s.share:.0%} ({s.first_time_right}/"
                                                    f"{s.closed})",
                                           _cases(type=s.group, status="closed", returned="1"),
                                           "bar" if s.meets_target else "bar-bad")])
            for s in shares], target=metrics.FIRST_TIME_RIGHT_TARGET),
        Chart("past-deadline", gettext("Cases past deadline: open now, and closed late"), [
            (label(CASE_TYPES, o.group), [
                (o.open_past_deadline, ngettext("%(num)s open", "%(num)s open", o.open_past_deadline),
                 _cases(type=o.group, overdue="1"), "bar-bad"),
                (o.closed_late, ngettext("%(num)s closed late", "%(num)s closed late", o.closed_late),
                 _cases(type=o.group, status="closed"), "bar-secondary")]) for o in overdue]),
    ]
    return render_template("cases/dashboard.html", charts=[c.layout() for c in charts],
                           totals=figures.totals, computed_at=figures.computed_at,
                           label_w=LABEL_W, bar_h=BAR_H, bar_area=BAR_W)
