"""Work that finds you on the living demo: each demo role's home lists what waits for it (CVK the
overdue commission query, the Ādaži commission its reports and the complaint under review, the
trustee the tally to decrypt), and every link on each role's home and navigation, including
those of the list, opens for that role in English as in Latvian."""
from __future__ import annotations

import re

import pytest

from tests.portal.test_demo import (  # noqa: F401 - the demo's fixtures
    DEMO_ROLES,
    WEEK,
    _as,
    _user,
    _voter,
    app_overrides,
    clock,
    real,
    story,
)
from tests.portal.test_work import nav_counts, work_items

pytestmark = pytest.mark.parametrize("real", [WEEK[3]], indirect=True)


def test_each_demo_role_finds_its_work_on_its_home(app, db_session, real, story):  # noqa: F811
    homes = {who: _as(app, _user(db_session, f"{who}@demo.cvk.lv"), real).get("/").get_data(
        as_text=True) for who in DEMO_ROLES}
    officer = homes["officer"]
    assert "1 nokavēta" in nav_counts(officer) and "1 gaida jūs" in nav_counts(officer)
    assert any("nelasīt" in c for c in nav_counts(officer))
    assert "Nokavēts" in officer
    chair = homes["chair.adazi"]
    assert any(c.endswith("gaida jūs") for c in nav_counts(chair))
    assert "Sūdzība · Tiek izskatīta" in chair and len(work_items(chair)) >= 4
    assert "Atšifrēt balsu kopsummu kā pilnvarotajam" in homes["trustee"]
    assert work_items(homes["member.riga"]) == [] and nav_counts(homes["member.riga"]) == []


def test_every_link_of_every_demo_roles_home_opens_in_english(
        app, db_session, real, story):  # noqa: F811
    users = [_user(db_session, f"{who}@demo.cvk.lv") for who in DEMO_ROLES]
    users.append(_voter(app, db_session, 0))
    for user in users:
        client = _as(app, user, real)
        client.post("/lang/en")
        home = client.get("/").get_data(as_text=True)
        assert "Needs your action" in home
        page = home[:home.index("</header>")] + home[home.index("<main"):]
        links = {href.split("#")[0] for href in re.findall(r'href="(/[^"]*)"', page)
                 if not href.startswith("/static/")}
        for href in sorted(links):
            answer = client.get(href)
            assert answer.status_code < 400, (user.email or "voter", href, answer.status_code)
