"""SQL metacharacters (and absurd numbers) in every filter and query parameter of the list
pages and the API: never a 500, never rows from outside the caller's scope."""
from __future__ import annotations

from tests.case_factories import report, station
from tests.security.matrix_support import build_world, client_for

PAYLOADS = ["'", "\"", "' OR '1'='1", "1 OR 1=1", "1; DROP TABLE cases;--", "%", "_", "\\",
            "%' --", "0x41", "-1", "99999999999999999999999", "1e309", "NaN", "\x00",
            "') UNION SELECT id, email FROM users--", "*", "[]", "{}", "ā' ||'"]
PARAMS = {
    "/cases": ["type", "state", "municipality", "assignee", "status", "returned", "mine",
               "overdue", "sort", "page", "q"],
    "/cases/export.csv": ["type", "state", "municipality", "assignee", "status", "sort"],
    "/audit/": ["action", "actor", "object_type", "since", "until", "page"],
    "/messages/search": ["q"],
    "/messages/": ["page", "before"],
    "/initiatives/": ["municipality", "page"],
    "/voting/": ["page"],
    "/admin/users": ["q", "page"],
    "/api/v1/cases": ["type", "state", "municipality", "assignee", "status", "sort", "page",
                      "per_page", "cursor", "limit"],
}


def test_list_pages_survive_metacharacters_and_stay_in_scope(app, db_session, clock, keys,
                                                             people, connection):
    world = build_world(app, db_session, clock, keys, people)
    riga_observer = people.observer("0001000")
    riga_case = report(db_session, clock, riga_observer, at=station(db_session, "0001000", 4))
    db_session.commit()
    ada_ref, riga_ref = world.extra["case"].reference, riga_case.reference
    clients = {
        "member_other": client_for(app, world.users["member_other"], clock),  # Rīga commission
        "admin": client_for(app, world.users["admin"], clock),
        "token": client_for(app, None, clock, token=world.service_token),  # Ādaži chair
    }
    problems = []
    for path, names in PARAMS.items():
        for name in names:
            for payload in PAYLOADS:
                for who, client in clients.items():
                    if (who == "token") != path.startswith("/api/"):
                        continue
                    response = client.get(path, query_string={name: payload})
                    body = response.get_data(as_text=True)
                    if response.status_code >= 500:
                        problems.append(f"{path}?{name}={payload!r} as {who}: 500")
                    if who == "member_other" and ada_ref in body:
                        problems.append(f"{path}?{name}={payload!r}: Ādaži case shown to Rīga")
                    if who == "token" and riga_ref in body:
                        problems.append(f"{path}?{name}={payload!r}: Rīga case in Ādaži's API")
    assert not problems, "\n".join(problems)


def test_audit_log_pages_past_the_first(app, db_session, clock, people, login_as):
    """Regression: the pager assigned ``_`` in the template, hiding gettext (a 500 as soon as
    the log had more than one page)."""
    from referendum_core import audit

    admin = people.cvk_admin()
    for i in range(60):
        audit.record(db_session, clock, admin, "security.test", n=i)
    client = login_as(admin)
    assert client.get("/audit/").status_code == 200
    assert client.get("/audit/", query_string={"page": "2"}).status_code == 200


def test_ids_too_large_for_the_database_are_404_not_500(app, db_session, clock, keys, people,
                                                        connection):
    from tests.security.matrix_support import routes, urls_for

    world = build_world(app, db_session, clock, keys, people)
    huge = {k: (10**30 if isinstance(v, int) else v) for k, v in world.values.items()}
    client = client_for(app, world.users["admin"], clock)
    bearer = client_for(app, None, clock, token=world.service_token)
    for method, _endpoint, rule in routes(app):
        if not any(isinstance(world.values.get(a), int) for a in rule.arguments):
            continue
        for url in urls_for(rule, huge):
            savepoint = connection.begin_nested()
            try:
                who = bearer if url.startswith("/api/v1/") else client
                assert who.open(url, method=method).status_code == 404, url
            finally:
                if savepoint.is_active:
                    savepoint.rollback()
