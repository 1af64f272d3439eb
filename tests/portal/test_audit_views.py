"""CVK browses, filters and checks the audit log."""
from __future__ import annotations

from sqlalchemy import update

from referendum_core import audit
from referendum_core.audit import AuditEntry


def test_cvk_admin_filters_the_log(client, people, login_as, db_session, clock):
    admin = people.cvk_admin()
    audit.record(db_session, clock, admin, "case.transition", object_type="Case", object_id=7)
    login_as(admin)
    html = client.get("/audit/?action=case.").get_data(as_text=True)
    assert "pārcēla lietu L-000007" in html and "piešķīra lomu" not in html
    html = client.get("/audit/?action=membership").get_data(as_text=True)
    assert "piešķīra lomu" in html


def test_sql_metacharacters_in_filters_are_harmless(client, people, login_as):
    login_as(people.cvk_admin())
    for value in ("' OR 1=1 --", "%", "_", "\\", "\"; DROP TABLE audit_log; --"):
        response = client.get("/audit/", query_string={"action": value, "actor": value,
                                                        "object_type": value, "since": value})
        assert response.status_code == 200
        assert "Neviens ieraksts neatbilst." in response.get_data(as_text=True)


def test_chain_check_page_reports_tampering(client, people, login_as, db_session, clock):
    admin = people.cvk_admin()
    entry = audit.record(db_session, clock, admin, "x.y")
    login_as(admin)
    html = client.post("/audit/verify").get_data(as_text=True)
    assert "Nekas nav mainīts" in html
    db_session.execute(update(AuditEntry).where(AuditEntry.seq == entry.seq).values(action="z"))
    db_session.commit()
    html = client.post("/audit/verify").get_data(as_text=True)
    assert f"pie ieraksta {entry.seq}" in html
