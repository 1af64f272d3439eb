"""The living demo on the demo clock: on whichever real day of one week the demo starts, a
newcomer can sign the initiative, vote online and find the tracker (Art. 15(1): Monday to
Wednesday), mark a voter at a polling station on referendum day (Art. 16(1)), decrypt as the
trustee and publish the results; no page of any demo role answers 500."""
from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from messaging.models import Thread
from messaging.reading import unread_counts
from portal.accounts import services
from portal.accounts.models import User
from portal.config import ConfigError, from_env
from portal.seed import DEMO_VOTERS, seed_demo
from portal.seed_story import TRUSTEE_PASSPHRASE, seed_story, trustee_secret_path
from referendum_core.calendar import WorkingDayCalendar
from referendum_core.cases.models import Case
from referendum_core.clock import RIGA, FixedClock, OffsetClock, demo_clock, demo_now, to_riga
from referendum_core.crypto import encrypt_ballot
from referendum_core.crypto.secretfile import open_secret
from referendum_core.crypto.tally import aggregate_from_json, aggregate_to_json, partial_decrypt
from referendum_core.initiatives import Initiative
from referendum_core.voting.models import Referendum, Stage
from tests.cast_support import page_tokens
from tests.conftest import login

MONDAY = date(2026, 12, 7)
# One real moment on each day of a week, Monday to Sunday, at different times of day.
WEEK = [datetime.combine(MONDAY + timedelta(days=i), datetime.min.time(), tzinfo=RIGA)
        + timedelta(hours=hour, minutes=10) for i, hour in enumerate((0, 9, 13, 17, 20, 11, 23))]
DEMO_TUESDAY = date(2026, 12, 8)
DEMO_SATURDAY = date(2026, 12, 12)


@pytest.fixture(params=WEEK, ids=[d.strftime("%a") for d in WEEK])
def real(request: Any) -> FixedClock:
    return FixedClock(request.param.astimezone(UTC))


@pytest.fixture()
def clock(real: FixedClock) -> OffsetClock:  # type: ignore[override]
    return demo_clock("auto", real)


@pytest.fixture()
def app_overrides() -> dict[str, Any]:
    return {"DEMO_CLOCK": "auto"}


@pytest.fixture()
def story(app: Any, db_session: Any, clock: OffsetClock, tmp_path: Any) -> dict[str, Any]:
    keys = app.extensions["keys"]
    seed_demo(db_session, clock, keys)
    out = seed_story(db_session, clock, WorkingDayCalendar(), keys, tmp_path)
    db_session.commit()
    return out


def _user(db_session: Any, email: str) -> User:
    user = services.find_user_by_email(db_session, email)
    assert user is not None
    return user


def _voter(app: Any, db_session: Any, index: int) -> User:
    ref = app.extensions["keys"].personal_codes.lookup_hash(DEMO_VOTERS[index][0])
    return db_session.scalars(select(User).where(User.person_ref == ref)).one()


def lean_count() -> float:
    """``portal_lean_casts_total``: ballots the lean cast path accepted in this process."""
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("portal_lean_casts_total") or 0.0


def _as(app: Any, user: User, real: FixedClock) -> Any:
    client = app.test_client()
    login(client, user, real)  # session limits run on real time
    return client


def test_the_demo_clock_puts_every_day_of_the_week_on_its_online_voting_tuesday(real, clock):
    """Art. 15(1): online voting Monday to Wednesday before the Saturday referendum day."""
    now = to_riga(clock.now())
    assert now.date() == DEMO_TUESDAY
    assert (now.hour, now.minute) == (to_riga(real.now()).hour, to_riga(real.now()).minute)
    real.advance(timedelta(minutes=7))
    assert clock.now() - now == timedelta(minutes=7)  # advances in real time
    assert to_riga(demo_now(clock.now(), "polling")) == datetime(2026, 12, 12, 10, 0, tzinfo=RIGA)


def test_a_newcomer_walks_the_whole_story(app, db_session, clock, real, story, tmp_path):
    calendar_now = to_riga(clock.now())
    ref = db_session.get(Referendum, story["referendum"])
    counted = db_session.get(Referendum, story["counted"])
    assert ref.online_opens_at <= clock.now() < ref.online_closes_at
    assert counted.stage == Stage.COUNTING and ref.referendum_day == DEMO_SATURDAY
    public = app.test_client()
    home = public.get("/").get_data(as_text=True)
    assert 'data-testid="demo-banner"' in home and "2026" in home and "8." in home

    # The voter signs the initiative, casts a ballot and finds the tracker on the board.
    anna = _as(app, _voter(app, db_session, 0), real)
    page = f"/initiatives/{story['initiative']}"
    signed = anna.post(f"{page}/sign", follow_redirects=True).get_data(as_text=True)
    assert signed.count("flash-error") == 0, re.findall(r"flash-error\">([^<]*)", signed)
    assert 'data-testid="own-signature"' in anna.get(page).get_data(as_text=True)
    election = anna.get(f"/api/voting/{ref.id}/election").get_json()
    for choice in ([0, 1], [1, 0]):  # a change of mind: the last vote counts (Art. 20(5))
        ballot = encrypt_ballot(json.loads(ref.manifest), election["alias"], choice)
        lean_before = lean_count()
        _csrf, token = page_tokens(anna, ref.id)  # as the voting page's script casts
        cast = anna.post(f"/api/voting/{ref.id}/ballots", data=json.dumps(ballot.ballot),
                         content_type="application/json", headers={"X-Cast-Token": token})
        assert cast.status_code == 201, cast.get_data(as_text=True)
    # The re-vote came after the first cast's live push: the lean cast path answered it, on
    # the demo clock too.
    assert lean_count() == lean_before + 1
    board = anna.get(f"/voting/{ref.id}/board?tracker={ballot.tracker}")
    assert board.status_code == 200 and ballot.tracker in board.get_data(as_text=True)

    # The trustee decrypts last week's count with the secret the seed left in instance/demo/.
    trustee = _as(app, _user(db_session, "trustee@demo.cvk.lv"), real)
    assert trustee.get(f"/voting/{counted.id}/trustee").status_code == 200
    sealed = json.loads(trustee_secret_path(tmp_path, counted.election_id).read_text())
    secret = open_secret(sealed, TRUSTEE_PASSPHRASE)
    agg = aggregate_from_json(json.loads(counted.aggregate), 2)
    partial = {"election_hash": counted.election_hash, "trustee": 0, "name": secret.name,
               "public_key": secret.public_key.hex(), "aggregate": aggregate_to_json(agg),
               "shares": partial_decrypt(secret, bytes.fromhex(counted.election_hash), agg)}
    assert trustee.post(f"/voting/{counted.id}/trustee",
                        data={"share-partial_json": json.dumps(partial)}).status_code == 302
    db_session.refresh(counted)
    assert counted.online_result_dict == {"yes": 1, "no": 1}

    # The chair publishes the results (protocols were entered and confirmed last Saturday).
    chair = _as(app, _user(db_session, "chair.adazi@demo.cvk.lv"), real)
    assert chair.post(f"/voting/{counted.id}/approve").status_code == 302
    assert 'data-testid="outcome"' in public.get(f"/voting/{counted.id}/results").get_data(
        as_text=True)

    # Referendum day: the banner's button moves the clock; a member marks the other voter.
    member = _as(app, _user(db_session, "member.adazi@demo.cvk.lv"), real)
    assert member.post("/demo/clock", data={"phase": "polling"}).status_code == 302
    assert to_riga(clock.now()).date() == DEMO_SATURDAY
    assert ref.polls_open_at <= clock.now() < ref.polls_close_at
    station = member.get(f"/voting/{ref.id}/station").get_data(as_text=True)
    station_id = re.search(r'<option[^>]*value="(\d+)"', station).group(1)
    marked = member.post(f"/voting/{ref.id}/station", data={
        "station_id": station_id, "personal_code": DEMO_VOTERS[1][0], "action": "mark"})
    assert marked.status_code == 200, marked.get_data(as_text=True)
    assert member.post("/demo/clock", data={"phase": "online"}).status_code == 302
    assert to_riga(clock.now()).date() == DEMO_TUESDAY
    # Back on Tuesday at the real time of day, as `make run` started: nothing seeded is in
    # the future (the Saturday's 10:00 used to carry over).
    assert to_riga(clock.now()).time() == to_riga(real.now()).time()
    assert calendar_now.date() == DEMO_TUESDAY


ROLE_PAGES = ("/", "/cases/", "/messages/", "/initiatives/", "/voting/", "/cases/dashboard",
              "/audit/", "/admin/users", "/register/lookup")


def test_no_page_of_any_demo_role_answers_500(app, db_session, real, story):
    referendum_pages = [f"/voting/{story['referendum']}", f"/voting/{story['counted']}",
                        f"/voting/{story['referendum']}/manage",
                        f"/voting/{story['counted']}/manage",
                        f"/voting/{story['counted']}/trustee",
                        f"/voting/{story['referendum']}/station",
                        f"/initiatives/{story['initiative']}"]
    case_pages = [f"/cases/{cid}" for cid in db_session.scalars(select(Case.id))]
    users = [_user(db_session, f"{who}@demo.cvk.lv") for who in (
        "admin", "officer", "chair.adazi", "member.adazi", "member.riga", "observer.adazi",
        "trustee")] + [_voter(app, db_session, 0)]
    for user in users:
        client = _as(app, user, real)
        for url in (*ROLE_PAGES, *referendum_pages, *case_pages):
            answer = client.get(url)
            assert answer.status_code < 500, (user.email, url, answer.status_code)


def test_the_story_is_there_and_seeding_twice_adds_nothing(app, db_session, clock, story,
                                                          tmp_path):
    officer = _user(db_session, "officer@demo.cvk.lv")
    cases = {(c.type, c.state): c for c in db_session.scalars(select(Case))}
    assert ("observer_report", "submitted") in cases and ("complaint", "under_review") in cases
    assert ("observer_report", "investigating") in cases
    overdue = cases[("commission_query", "submitted")]
    assert overdue.deadline_at < clock.now()
    critical = [c for c in db_session.scalars(select(Case)) if c.observer_report is not None
                and c.observer_report.severity == "critical"]
    assert len(critical) == 1
    # Two referendums run in the demo: each seeded report belongs to this week's, so it shows
    # on its station page and in its counts.
    reports = [c.observer_report for c in db_session.scalars(select(Case))
               if c.observer_report is not None]
    assert reports and {r.referendum_id for r in reports} == {story["referendum"]}
    initiative = db_session.get(Initiative, story["initiative"])
    assert initiative.case.state == "collecting"
    assert initiative.collection_starts_at <= clock.now() < initiative.collection_ends_at
    threads = list(db_session.scalars(select(Thread.id)))
    chair = _user(db_session, "chair.adazi@demo.cvk.lv")
    assert sum(unread_counts(db_session, officer, threads).values()) >= 1
    assert sum(unread_counts(db_session, chair, threads).values()) >= 1
    counts = [db_session.scalar(select(func.count()).select_from(model))
              for model in (Case, Referendum, Initiative)]
    keys = app.extensions["keys"]
    seed_demo(db_session, clock, keys)
    again = seed_story(db_session, clock, WorkingDayCalendar(), keys, tmp_path)
    db_session.commit()
    assert again["created"] is False
    assert counts == [db_session.scalar(select(func.count()).select_from(model))
                      for model in (Case, Referendum, Initiative)]


@pytest.mark.parametrize("real", [WEEK[0]], indirect=True)
def test_the_demo_clock_is_refused_in_production(real):
    with pytest.raises(ConfigError, match="DEMO_CLOCK .* refused in production"):
        from_env({"PORTAL_ENV": "production", "DEMO_CLOCK": "auto", "SECRET_KEY": "s" * 40,
                  "DATA_KEY": "d" * 40, "BASE_URL": "https://portal.example.lv",
                  "VOTER_IDENTITY_PROVIDERS": "oidc"}).validate()
    with pytest.raises(ConfigError, match="DEMO_CLOCK"):
        from_env({"DEMO_CLOCK": "next tuesday"}).validate()
    assert from_env({"DEMO_CLOCK": "off"}).DEMO_CLOCK == ""
    from_env({"DEMO_CLOCK": "2026-12-08T10:00+02:00"}).validate()


DEMO_ROLES = ("admin", "officer", "chair.adazi", "member.adazi", "member.riga", "observer.adazi",
              "trustee")


@pytest.mark.parametrize("real", [WEEK[2]], indirect=True)
def test_every_link_on_every_demo_roles_home_works_for_that_role(app, db_session, real, story):
    """The navigation and the home page's tasks offer only pages the person may open."""
    users = [_user(db_session, f"{who}@demo.cvk.lv") for who in DEMO_ROLES]
    users.append(_voter(app, db_session, 0))
    for user in users:
        client = _as(app, user, real)
        home = client.get("/").get_data(as_text=True)
        page = home[:home.index("</header>")] + home[home.index("<main"):]
        links = {href for href in re.findall(r'href="(/[^"#]*)"', page)
                 if not href.startswith("/static/")}
        assert links, user.email
        for href in sorted(links):
            answer = client.get(href)
            assert answer.status_code == 200, (user.email or "voter", href, answer.status_code)


def test_without_a_demo_clock_there_is_no_banner_and_no_clock_to_move(database_url, gnupg_home):
    from tests.conftest import make_test_app

    app = make_test_app(database_url, FixedClock(WEEK[0]), PORTAL_GNUPGHOME=str(gnupg_home))
    client = app.test_client()
    assert 'data-testid="demo-banner"' not in client.get("/").get_data(as_text=True)
    assert client.post("/demo/clock", data={"phase": "polling"}).status_code == 404
    app.extensions["portal_db"].engine.dispose()


@pytest.mark.parametrize("real", [WEEK[0]], indirect=True)
def test_the_banner_says_the_simulated_date_in_both_languages(app, real):
    client = app.test_client()
    lv = client.get("/").get_data(as_text=True)
    assert "otrdiena, 2026. gada 8. decembris" in lv and 'aria-labelledby="demo-banner-title"' in lv
    client.post("/lang/en")
    assert "as if it were Tuesday, December 8, 2026" in client.get("/").get_data(as_text=True)
    assert client.post("/demo/clock", data={"phase": "sunday"}).status_code == 404


def test_irreversible_stage_steps_ask_before_they_happen(app, db_session, real, clock, story):
    """Closing the polls (and opening the vote, approving the results) asks for confirmation:
    the form carries data-confirm, which static/js/confirm.js turns into a question. Before
    20:00 on referendum day the page says when closing will be offered instead (Art. 16(1))."""
    chair = _user(db_session, "chair.adazi@demo.cvk.lv")
    with _as(app, chair, real) as client:
        page = client.get(f"/voting/{story['referendum']}/manage").get_data(as_text=True)
    assert 'data-testid="close-later"' in page and "data-confirm" not in page
    clock.jump_to(db_session.get(Referendum, story["referendum"]).polls_close_at
                  + timedelta(minutes=5))
    with _as(app, chair, real) as client:
        page = client.get(f"/voting/{story['referendum']}/manage").get_data(as_text=True)
    assert 'data-confirm="Slēgt vēlēšanu iecirkņus?' in page
    assert "js/confirm.js" in page


@pytest.mark.parametrize("real", [WEEK[0]], indirect=True)
def test_only_election_officials_see_and_move_the_demo_clock(app, db_session, real, clock, story):
    """Everyone sees the simulated date; the buttons that move it are shown to, and accepted
    from, CVK and the municipal commission only: signed out the answer is the sign-in page, a
    voter or an observer 403, and the clock stays where it was."""
    before = clock.now()
    visitors = {"anonymous": (app.test_client(), 302),
                "voter": (_as(app, _voter(app, db_session, 0), real), 403),
                "observer": (_as(app, _user(db_session, "observer.adazi@demo.cvk.lv"), real), 403)}
    for who, (client, refused) in visitors.items():
        page = client.get("/").get_data(as_text=True)
        assert 'data-testid="demo-banner"' in page and "otrdiena" in page, who
        assert 'data-testid="demo-clock-buttons"' not in page, who
        assert "/demo/clock" not in page, who
        answer = client.post("/demo/clock", data={"phase": "polling"})
        assert answer.status_code == refused, (who, answer.status_code)
        assert refused == 403 or "/login" in answer.headers["Location"], who
        assert to_riga(clock.now()).date() == DEMO_TUESDAY, who
    assert clock.now() - before < timedelta(minutes=1)
    for email in ("officer@demo.cvk.lv", "member.adazi@demo.cvk.lv"):
        official = _as(app, _user(db_session, email), real)
        assert 'data-testid="demo-clock-buttons"' in official.get("/").get_data(as_text=True)
        page = official.get("/").get_data(as_text=True)
        assert "pārvietojot to, tas mainās visiem šīs demonstrācijas lietotājiem" in page
        assert official.post("/demo/clock", data={"phase": "polling"}).status_code == 302
        assert to_riga(clock.now()).date() == DEMO_SATURDAY
        # Later on Saturday, the Saturday button leaves the clock where it is (never back to
        # 10:00, before what was done since).
        real.advance(timedelta(hours=3))
        later = clock.now()
        assert official.post("/demo/clock", data={"phase": "polling"}).status_code == 302
        assert clock.now() - later < timedelta(minutes=1) and clock.now() >= later
        assert official.post("/demo/clock", data={"phase": "online"}).status_code == 302


@pytest.mark.parametrize("real", [WEEK[0]], indirect=True)
def test_the_banner_offers_only_the_jump_away_from_the_day_shown(app, db_session, real, clock,
                                                                 story):
    """On Tuesday the banner offers referendum day only; on referendum day, Tuesday only."""
    official = _as(app, _user(db_session, "officer@demo.cvk.lv"), real)
    tuesday = official.get("/").get_data(as_text=True)
    assert 'value="polling"' in tuesday and 'value="online"' not in tuesday
    assert official.post("/demo/clock", data={"phase": "polling"}).status_code == 302
    saturday = official.get("/").get_data(as_text=True)
    assert 'value="online"' in saturday and 'value="polling"' not in saturday
