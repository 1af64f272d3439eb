"""The main navigation and the home page's task list, adapted to what the person may do.

Declared once here: each entry names its endpoint and the permission that shows it, so a link
never appears to someone the page would refuse.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, request, url_for
from flask_babel import lazy_gettext as _l

from portal.permissions import Permission, has_permission

ANYONE = "anyone"
SIGNED_IN = "signed_in"


@dataclass(frozen=True)
class Link:
    label: Any
    endpoint: str
    shown_to: Permission | str | tuple[Permission, ...]  # a tuple: any one of them
    section: str = ""  # endpoint prefix that marks the link as the current page

    def visible(self, user: Any) -> bool:
        if self.endpoint not in current_app.view_functions:
            return False
        if self.shown_to == ANYONE:
            return True
        if not getattr(user, "is_authenticated", False):
            return False
        if self.shown_to == SIGNED_IN:
            return True
        wanted = self.shown_to if isinstance(self.shown_to, tuple) else (self.shown_to,)
        return any(has_permission(user, p) for p in wanted)  # type: ignore[arg-type]

    def is_current(self) -> bool:
        endpoint = request.endpoint or ""
        return endpoint == self.endpoint or bool(self.section and endpoint.startswith(self.section))


MAIN_NAV = (
    Link(_l("Home"), "main.index", ANYONE),
    Link(_l("Referendums"), "voting.index", ANYONE, "voting"),
    Link(_l("Initiatives"), "initiatives.index", ANYONE, "initiatives."),
    # Observers follow their own reports there (the list shows each person what they may see).
    Link(_l("Cases"), "cases.queue", (Permission.VIEW_CASES, Permission.FILE_OBSERVER_REPORT),
         "cases."),
    Link(_l("Messages"), "messages.index", SIGNED_IN, "messages."),
    Link(_l("Voter lookup"), "register.lookup", Permission.LOOKUP_VOTER, "register."),
    Link(_l("Polling stations"), "observers.stations", Permission.VIEW_STATION_TABLE,
         "observers."),
    Link(_l("Service levels"), "case_dashboard.dashboard", Permission.VIEW_DASHBOARD,
         "case_dashboard."),
    Link(_l("Audit log"), "audit.index", Permission.VIEW_AUDIT_LOG, "audit."),
    Link(_l("People and roles"), "admin.users", Permission.MANAGE_USERS, "admin."),
    Link(_l("My account"), "accounts.account", SIGNED_IN, "accounts.account"),
)

TASKS = (
    Link(_l("Report a problem at a polling station"), "cases.report",
         Permission.FILE_OBSERVER_REPORT),
    Link(_l("Observer app: checklists and reports, also without a connection"),
         "observation.observer_app", Permission.FILL_CHECKLIST),
    Link(_l("Work on cases of your commission"), "cases.queue", Permission.WORK_CASES),
    # The permission the page itself requires: CVK works cases but does not ask itself.
    Link(_l("Ask CVK for methodological help"), "cases.query",
         Permission.HANDLE_COMMISSION_CASES),
    Link(_l("File a complaint"), "cases.complaint", Permission.FILE_COMPLAINT),
    Link(_l("Look up a voter and mark them as voted"), "register.lookup", Permission.LOOKUP_VOTER),
    Link(_l("Import register extracts"), "register.import_page", Permission.MANAGE_REGISTER),
    Link(_l("Submit a referendum initiative"), "initiatives.new", Permission.SUBMIT_INITIATIVE),
    Link(_l("Sign initiatives"), "initiatives.index", Permission.SIGN_INITIATIVE),
    Link(_l("Vote in a referendum"), "voting.index", Permission.VOTE),
    Link(_l("Set up a referendum"), "voting_admin.new", Permission.MANAGE_REFERENDUM),
    Link(_l("Polling stations: observers and incidents"), "observers.stations",
         Permission.VIEW_STATION_TABLE),
    Link(_l("Service-level dashboard"), "case_dashboard.dashboard", Permission.VIEW_DASHBOARD),
    Link(_l("Messages with CVK and commissions"), "messages.index", SIGNED_IN),
    Link(_l("Browse the audit log"), "audit.index", Permission.VIEW_AUDIT_LOG),
    Link(_l("Keep the audit log's signed checkpoints"), "audit.checkpoints",
         Permission.DOWNLOAD_AUDIT_CHECKPOINTS),
    Link(_l("Manage officials and their roles"), "admin.users", Permission.MANAGE_USERS),
    Link(_l("Security of your account"), "accounts.account", SIGNED_IN),
)


def links_for(user: Any, links: tuple[Link, ...]) -> list[dict[str, Any]]:
    """The entries ``user`` may see, with their URLs and whether each is the current page."""
    return [{"label": link.label, "url": url_for(link.endpoint), "current": link.is_current(),
             "endpoint": link.endpoint}
            for link in links if link.visible(user)]
