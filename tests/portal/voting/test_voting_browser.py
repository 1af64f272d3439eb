"""A whole referendum in Chromium: the chair sets it up, trustees upload keys made with the
trustee tool, three voters vote online (one audits first, one re-votes; one on a phone, one with
the keyboard only), one of them then votes at a polling station, the polls close, the trustees
decrypt with ``referendum-trustee``, two members enter and confirm the protocols, the chair
approves, and the downloaded record passes ``referendum-verify`` with the expected numbers.
axe-core finds no serious or critical problem on the voting and results pages."""
from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest

from referendum_core.clock import FixedClock
from referendum_core.crypto.trustee_cli import main as trustee_main
from referendum_core.crypto.verify_cli import main as verify_main
from tests.browser import Actors, LiveServer, check_a11y, require_chromium, submit
from tests.register_data import code_for
from tests.voting_support import riga

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DAY = date(2026, 3, 14)
BORN = date(1971, 2, 3)
VOTERS = {name: code_for(BORN, n) for n, name in ((611, "Anna"), (612, "Beāte"), (613, "Cēsis"))}
QUESTION_LV = "Vai atbalstāt Ādažu attīstības stratēģijas grozījumus?"
PASSPHRASE = "trustee passphrase long enough"


@pytest.fixture(scope="module")
def clock() -> FixedClock:
    # Set-up 19 working days or more before referendum day (Voter Register Law deadlines).
    return FixedClock(datetime(2026, 2, 16, 9, 0, tzinfo=UTC))


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, clock: FixedClock) -> Iterator[LiveServer]:
    """A live portal on our clock, with a second Ādaži member, two trustees from the internet
    commission and three voters in the population register (Ādaži residents)."""
    require_chromium()
    from portal.accounts import services
    from portal.accounts.models import Role
    from referendum_core.organisation import CommissionKind, Municipality, get_commission
    from tests.browser import start_live_server
    from tests.register_data import add_person

    server = start_live_server(tmp_path_factory.mktemp("voting-live"), clock=clock)
    live = next(server)
    app = live.app
    session = app.extensions["portal_db"].new_session()
    keys = app.extensions["keys"]
    adazi = session.query(Municipality).filter_by(atvk_code="0023000").one()
    adazi.voters_at_last_election, adazi.participants_at_last_election = 9, 6
    for name, code in VOTERS.items():
        add_person(session, keys.personal_codes, code, born=BORN, municipality=adazi, name=name)
    internet = get_commission(session, CommissionKind.INTERNET)
    extra = (("member2.adazi@demo.cvk.lv", "Otra Locekle", Role.COMMISSION_MEMBER,
              get_commission(session, CommissionKind.MUNICIPAL, adazi.id)),
             ("trustee1@demo.cvk.lv", "Pirmais Pilnvarotais", Role.INTERNET_COMMISSION_MEMBER,
              internet),
             ("trustee2@demo.cvk.lv", "Otrais Pilnvarotais", Role.INTERNET_COMMISSION_MEMBER,
              internet))
    for email, name, role, commission in extra:
        user = services.create_user(session, clock, None, email=email, display_name=name,
                                    password=live.demo_password)
        services.grant_membership(session, clock, None, user, role, commission=commission)
        secret = pyotp.random_base32()
        services.enable_totp(session, clock, keys, user, secret,
                             pyotp.TOTP(secret).at(clock.now()))
        live.totp_secrets[email] = secret
    session.commit()
    session.close()
    yield live
    with contextlib.suppress(StopIteration):
        next(server)


@pytest.fixture(scope="module")
def browser_instance(browser: Any) -> Any:
    """The session's Chromium (one sync Playwright per process: tests/conftest.py)."""
    return browser


def _once(fault: Any) -> Any:
    """A route handler: ``fault`` for the first request, the real portal after that."""
    done: list[bool] = []

    def handler(route: Any) -> None:
        if done:
            route.continue_()
            return
        done.append(True)
        fault(route)

    return handler


def _keygen(tmp: Path, election_id: str, name: str) -> tuple[Path, str]:
    secret = tmp / f"{name}.secret.json"
    passphrase = tmp / "passphrase"
    passphrase.write_text(PASSPHRASE)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert trustee_main(["--passphrase-file", str(passphrase), "keygen", "--election-id",
                             election_id, "--name", name, "--out", str(secret),
                             "--kdf-memory-mib", "64"]) == 0
    return secret, out.getvalue()


def _vote(page: Any, live: LiveServer, referendum_id: int, label: str) -> str:
    page.goto(f"{live.url}/voting/{referendum_id}")
    page.get_by_text("Gatavs.").wait_for()
    page.get_by_label(label).check()
    page.get_by_role("button", name="Šifrēt un nodot manu balsi").click()
    page.get_by_test_id("receipt").wait_for()
    page.wait_for_load_state()  # the receipt shows first; its tracker and code come after
    tracker = page.get_by_test_id("receipt-tracker").inner_text().strip()
    assert page.locator("figure.qr svg").count() == 1
    return tracker


def test_a_whole_referendum_in_the_browser(browser_instance, live, clock, tmp_path):
    actors = Actors(browser_instance, live, clock)
    # 1. Set-up by the chair of the Ādaži election commission.
    chair = actors.official("chair.adazi@demo.cvk.lv")
    chair.goto(f"{live.url}/voting/new")
    chair.get_by_label("Pašvaldība").select_option(label="Ādažu novads")
    chair.get_by_label("Jautājuma temats (5. pants)").select_option("strategy")
    chair.get_by_label("Stratēģijas apstiprināšanas vai lēmuma publicēšanas datums").fill("2026-02-02")
    chair.get_by_label("Jautājums latviski").fill(QUESTION_LV)
    chair.get_by_label("Jautājums angliski").fill("Do you support the strategy amendments?")
    chair.get_by_label("Pamatojums").fill("Dome nolēma jautāt iedzīvotājiem.")
    chair.get_by_label("Domes lēmuma datums").fill("2026-02-12")
    chair.get_by_label("Domes lēmuma numurs").fill("Nr. 4/21")
    chair.get_by_label("Deputāti, kas balsoja par").fill("12")
    chair.get_by_label("Visi deputāti (ievēlētie domes locekļi)").fill("15")
    chair.get_by_label("Referenduma diena (sestdiena)").fill(DAY.isoformat())
    submit(chair, "Sagatavot")
    election_id = chair.get_by_test_id("election-id").inner_text().strip()
    referendum_id = int(chair.url.rstrip("/").split("/")[-2])
    trustees = chair.get_by_role(
        "group", name="Pilnvarotie (interneta vēlēšanu iecirkņa komisijas locekļi)")
    for name in ("Pirmais Pilnvarotais", "Otrais Pilnvarotais"):  # checkboxes
        trustees.get_by_label(name).check()
    submit(chair, "Izvēlēties pilnvarotos")  # asks first (confirm.js): yes
    chair.get_by_test_id("trustees").wait_for()
    # 2. Trustees make their keys with the trustee tool and upload the public part.
    secrets = {}
    for email, name in (("trustee1@demo.cvk.lv", "Pirmais"), ("trustee2@demo.cvk.lv", "Otrais")):
        secret, public = _keygen(tmp_path, election_id, name)
        secrets[email] = secret
        page = actors.official(email)
        page.goto(f"{live.url}/voting/{referendum_id}/trustee")
        page.get_by_label("Publiskā atslēga (JSON, ko izdrukā referendum-trustee keygen)") \
            .fill(public)
        submit(page, "Augšupielādēt publisko atslēgu")
        assert page.get_by_test_id("key-status").is_visible()
    chair = actors.official("chair.adazi@demo.cvk.lv")
    chair.goto(f"{live.url}/voting/{referendum_id}/manage")
    submit(chair, "Atvērt balsošanu")
    assert chair.get_by_test_id("stage").inner_text() == "notiek balsošana"
    actors.close()

    # 3. Online voting on Monday. Anna votes for on a phone.
    clock.set(riga(date(2026, 3, 9), 9))
    anna = actors.voter(VOTERS["Anna"], phone=True)
    anna.goto(f"{live.url}/voting/{referendum_id}")
    anna.get_by_text("Gatavs.").wait_for()
    assert check_a11y(anna) == []
    box = anna.get_by_role("button", name="Šifrēt un nodot manu balsi").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    anna_tracker = _vote(anna, live, referendum_id, "Par")
    # Beāte audits an encryption first, then votes against.
    beate = actors.voter(VOTERS["Beāte"])
    beate.goto(f"{live.url}/voting/{referendum_id}")
    beate.get_by_text("Gatavs.").wait_for()
    beate.get_by_label("Par").check()
    beate.get_by_role("button", name="Vispirms pārbaudīt šifrēšanu (nav obligāti)").click()
    beate.get_by_test_id("audit-result").wait_for()
    assert beate.locator("#audit-choice").inner_text() == "Par"
    audited_tracker = beate.locator("#audit-tracker").inner_text().strip()
    # Her first cast meets a proxy error page (it never reached the portal): the page says it
    # will try again, resends the same ballot and gets the receipt.
    cast_url = f"**/api/voting/{referendum_id}/ballots"
    beate.route(cast_url, _once(lambda route: route.fulfill(
        status=502, content_type="text/html", body="<html><body>502 Bad Gateway</body></html>")))
    beate.get_by_label("Pret").check()
    beate.get_by_role("button", name="Šifrēt un nodot manu balsi").click()
    beate.get_by_text("Portāls neatbildēja. Vēlreiz mēģinās pēc 2 sekundēm").wait_for()
    beate.get_by_test_id("receipt").wait_for()
    beate_tracker = beate.get_by_test_id("receipt-tracker").inner_text().strip()
    assert audited_tracker != beate_tracker
    # Cēsis votes against with the keyboard only, then changes the vote to for.
    cesis = actors.voter(VOTERS["Cēsis"])
    cesis.goto(f"{live.url}/voting/{referendum_id}")
    cesis.get_by_text("Gatavs.").wait_for()
    cesis.get_by_label("Pret").focus()
    cesis.keyboard.press("Space")
    cesis.keyboard.press("Tab")  # out of the radio group to the cast button
    assert cesis.evaluate("document.activeElement.id") == "cast-button"
    cesis.keyboard.press("Enter")
    cesis.get_by_test_id("receipt").wait_for()
    clock.advance(timedelta(minutes=20))  # within the session's idle limit
    cesis.goto(f"{live.url}/voting/{referendum_id}")
    assert cesis.get_by_test_id("revote-notice").is_visible()
    # The answer to the change is lost after the portal stored it (connection reset): the
    # page finds the ballot on the public board and shows its receipt; nothing is stored twice.
    stored: list[int] = []

    def lose_the_answer(route: Any) -> None:
        stored.append(route.fetch().status)
        route.abort("connectionreset")

    cesis.route(cast_url, _once(lose_the_answer))
    cesis_tracker = _vote(cesis, live, referendum_id, "Par")
    assert stored == [201]
    # Anyone can find a tracker on the public board.
    board = actors.page()
    board.goto(f"{live.url}/voting/{referendum_id}/board")
    board.get_by_label("Izsekošanas kods (64 rakstzīmes)").fill(beate_tracker)
    submit(board, "Meklēt")
    assert "Nr. 2" in board.get_by_test_id("lookup-result").inner_text()
    assert board.get_by_test_id("board-count").inner_text() == "4"
    assert not anna.console_errors and not board.console_errors
    # Beāte's and Cēsis's pages only logged the failed loads made above (and the look-up of a
    # tracker not on the board yet): no script error.
    assert all(e.startswith("Failed to load resource") for p in (beate, cesis)
               for e in p.console_errors), [beate.console_errors, cesis.console_errors]
    actors.close()

    # 4. Referendum day: Anna votes at polling station 1, which cancels her online vote.
    clock.set(riga(DAY, 10))
    member = actors.official("member.adazi@demo.cvk.lv")
    member.goto(f"{live.url}/voting/{referendum_id}/station")
    member.get_by_label("Vēlēšanu iecirknis").select_option(label="1. Ādažu vidusskola")
    member.get_by_label("Personas kods").fill(VOTERS["Anna"])
    assert member.get_by_role("button", name="Atzīmēt kā nobalsojušu").count() == 0
    submit(member, "Meklēt")  # the mark is offered only once the lookup found the voter
    submit(member, "Atzīmēt kā nobalsojušu")
    assert "20. panta piektā daļa" in member.get_by_test_id("station-result").inner_text()
    member.get_by_label("Vēlēšanu iecirknis").select_option(label="2. Carnikavas pamatskola")
    member.get_by_label("Personas kods").fill(VOTERS["Anna"])
    submit(member, "Meklēt")
    assert "Jau balsojis" in member.get_by_test_id("station-result").inner_text()
    assert member.get_by_role("button", name="Atzīmēt kā nobalsojušu").count() == 0
    actors.close()

    # 5. The polls close at 20:00; trustees decrypt the tally with referendum-trustee.
    clock.set(riga(DAY, 20, 5))
    chair = actors.official("chair.adazi@demo.cvk.lv")
    chair.goto(f"{live.url}/voting/{referendum_id}/manage")
    submit(chair, "Slēgt iecirkņus")
    assert chair.get_by_test_id("stage").inner_text().startswith(
        "iecirkņi slēgti, notiek skaitīšana; vēl trūkst: pilnvaroto daļējo atšifrējumu")
    for email, secret in secrets.items():
        page = actors.official(email)
        page.goto(f"{live.url}/voting/{referendum_id}/trustee")
        with page.expect_download() as download:
            page.get_by_test_id("trustee-record").click()
        record = tmp_path / f"record-{email}.json"
        download.value.save_as(record)
        partial = tmp_path / f"partial-{email}.json"
        assert trustee_main(["--passphrase-file", str(tmp_path / "passphrase"), "decrypt",
                             "--secret", str(secret), "--tally", str(record),
                             "--out", str(partial)]) == 0
        page.get_by_label("Daļējā atšifrēšana (JSON fails, ko uzraksta referendum-trustee "
                          "decrypt)").fill(partial.read_text())
        submit(page, "Augšupielādēt daļējo atšifrēšanu")
        assert page.get_by_test_id("share-status").is_visible()

    # 6. Protocols: one member enters, the second confirms.
    member = actors.official("member.adazi@demo.cvk.lv")
    member.goto(f"{live.url}/voting/{referendum_id}/protocols")
    for station, figures in (("1. Ādažu vidusskola", (1, 1, 0, 0)),
                             ("2. Carnikavas pamatskola", (0, 0, 0, 0))):
        member.get_by_label("Vēlēšanu iecirknis").select_option(label=station)
        for label, value in zip(("Izsniegtās vēlēšanu zīmes", "Balsis par", "Balsis pret",
                                 "Nederīgās vēlēšanu zīmes"), figures, strict=True):
            member.get_by_label(label).fill(str(value))
        submit(member, "Ievadīt protokolu")
    assert member.get_by_role("button", name="Apstiprināt").count() == 0  # not their own
    second = actors.official("member2.adazi@demo.cvk.lv")
    second.goto(f"{live.url}/voting/{referendum_id}/protocols")
    assert second.get_by_role("button", name="Apstiprināt iecirkņa „2. Carnikavas pamatskola” "
                                              "protokolu").count() == 1
    for _ in range(2):
        with second.expect_navigation():
            second.get_by_role("button", name="Apstiprināt").first.click()
    assert second.get_by_test_id("protocols").inner_text().count("apstiprināts") == 2

    # 7. The chair approves; the public results page and the record.
    chair = actors.official("chair.adazi@demo.cvk.lv")
    chair.goto(f"{live.url}/voting/{referendum_id}/manage")
    submit(chair, "Apstiprināt un publicēt rezultātus")
    results = actors.page()
    results.goto(f"{live.url}/voting/{referendum_id}/results")
    assert "Priekšlikums ir pieņemts." in results.get_by_test_id("outcome").inner_text()
    assert results.get_by_test_id("participants").inner_text() == "3"
    assert results.get_by_test_id("votes-for").inner_text() == "2"
    assert results.get_by_test_id("votes-against").inner_text() == "1"
    assert results.locator("svg.bars").count() == 1
    assert check_a11y(results) == []
    with results.expect_download() as download:
        results.get_by_test_id("record-link").click()
    record = tmp_path / "final-record.json"
    download.value.save_as(record)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert verify_main([str(record), "--jobs", "1", "--tracker", cesis_tracker]) == 0
    summary = out.getvalue()
    for line in ("ballots on board     4", "superseded (re-vote) 1",
                 "excluded (in person) 1 on the board", "audited (not cast)   1",
                 "counted              2", "    yes  1\n    no   1\n",
                 "yes  1   combined 2", "no   0   combined 1", "(counted)"):
        assert line in summary, (line, summary)
    data = json.loads(record.read_text())
    assert anna_tracker in {e["tracker"] for e in data["board"]}
    assert results.console_errors == []
    actors.close()
