"""The t-of-n key ceremony in Chromium, through the trustee pages (docs/guide/trustee.md): the
chair sets t = 3 of five trustees and each round's deadline; each trustee downloads the
transcript, runs ``referendum-trustee dkg …`` on the file and uploads the file it writes. Trustee
2 runs a modified tool that deals trustee 3 a wrong share: trustee 3's check complains, trustee 2
does not answer by the deadline and is disqualified. The vote opens with trustees 1, 3, 4 and 5;
after the polls close trustee 5 is absent and 1, 3 and 4 decrypt with ``referendum-trustee
decrypt``. The result is right and ``referendum-verify`` accepts the record and names who
decrypted (Art. 20(6): the internet polling-station commission counts the online votes)."""
from __future__ import annotations

import contextlib
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest

from referendum_core.clock import FixedClock, to_riga
from referendum_core.crypto import dkg
from referendum_core.crypto.dkg_cli import STATE_FORMAT
from referendum_core.crypto.secretfile import open_blob
from referendum_core.crypto.trustee_cli import main as trustee_main
from referendum_core.crypto.verify_cli import main as verify_main
from tests.browser import Actors, require_chromium, start_live_server, submit
from tests.voting_support import AFTER_CLOSE, NO_VOTE, ONLINE_MONDAY, YES_VOTE, build_scenario

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSPHRASE = "trustee passphrase long enough"
CHEAT, VICTIM, ABSENT = 2, 3, 5
DEADLINE_LABELS = ("1. kārtas (apņemšanās) termiņš (Rīgas laiks)",
                   "2. kārtas (atklāšanas) termiņš (Rīgas laiks)",
                   "3. kārtas (daļu) termiņš (Rīgas laiks)",
                   "4. kārtas (pārbaudes un sūdzību) termiņš (Rīgas laiks)",
                   "5. kārtas (atbilžu) termiņš: atslēgu ģenerēšana beidzas (Rīgas laiks)")


def _tool(*args: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert trustee_main(list(args)) == 0
    return out.getvalue()


class Trustee:
    """One trustee at their own computer: a browser page signed in to the portal, a folder of
    files and the trustee tool."""

    def __init__(self, page: Any, url: str, folder: Path, passfile: Path, index: int) -> None:
        self.page, self.url, self.folder, self.passfile = page, url, folder, passfile
        self.index = index
        self.state = folder / f"state{index}.json"

    def file(self, name: str) -> Path:
        return self.folder / f"{name}{self.index}.json"

    def dkg(self, *args: str) -> str:
        return _tool("--passphrase-file", str(self.passfile), "dkg", *args)

    def here(self) -> None:
        if self.page.url != self.url:
            self.page.goto(self.url)

    def transcript(self) -> Path:
        self.here()
        with self.page.expect_download() as download:
            self.page.get_by_test_id("dkg-transcript").click()
        path = self.file("transcript")
        download.value.save_as(path)
        return path

    def upload(self, path: Path) -> None:
        self.here()
        self.page.get_by_label("…vai fails").first.set_input_files(str(path))
        submit(self.page, "Augšupielādēt ziņojumu")
        notice = self.page.locator(".flashes p")
        assert notice.get_attribute("class") == "flash flash-success", notice.inner_text()

    def round(self, command: str, out: str) -> None:
        self.dkg(command, "--state", str(self.state), "--transcript", str(self.transcript()),
                 "--out", str(self.file(out)))
        self.upload(self.file(out))


def _people(app: Any, clock: FixedClock, live: Any) -> dict[str, Any]:
    """A referendum on 14 March 2026 with five trustees chosen; the chair and the trustees can
    sign in (password and TOTP)."""
    from portal.accounts import services

    session = app.extensions["portal_db"].new_session()
    s = build_scenario(session, clock, app.extensions["keys"], trustees=5, voters=3,
                       open_now=False, upload_keys=False, prefix="tt", station_number=893)
    for user in (s.chair, *s.trustees):
        user.password_hash = services.hash_password(live.demo_password)
        secret = pyotp.random_base32()
        services.enable_totp(session, clock, app.extensions["keys"], user, secret,
                             pyotp.TOTP(secret).at(clock.now()))
        live.totp_secrets[user.email] = secret
    session.commit()
    people = {"referendum_id": s.referendum.id, "election_id": s.referendum.election_id,
              "chair": s.chair.email, "trustees": [u.email for u in s.trustees],
              "voters": [v.id for v in s.voters]}
    session.close()
    return people


def _cast(app: Any, clock: FixedClock, people: dict[str, Any]) -> None:
    """Three residents vote online (for, for, against) through the crypto core."""
    from portal.accounts.models import User
    from referendum_core.crypto import encrypt_ballot
    from referendum_core.voting import alias_for, cast_ballot
    from referendum_core.voting.models import Referendum

    session = app.extensions["portal_db"].new_session()
    ref = session.get(Referendum, people["referendum_id"])
    for voter_id, vote in zip(people["voters"], (YES_VOTE, YES_VOTE, NO_VOTE), strict=True):
        voter = session.get(User, voter_id)
        alias = alias_for(session, clock, ref, voter.person_ref)
        cast_ballot(session, clock, voter, ref,
                    encrypt_ballot(ref.manifest_dict, alias, vote).ballot)
    session.commit()
    session.close()


def test_five_trustees_one_cheats_one_is_absent(tmp_path_factory, browser, tmp_path):
    require_chromium()
    clock = FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    server = start_live_server(tmp_path_factory.mktemp("threshold-live"), clock=clock)
    live = next(server)
    actors = Actors(browser, live, clock)
    try:
        with live.app.app_context():
            people = _people(live.app, clock, live)
        ref_id, election_id = people["referendum_id"], people["election_id"]
        passfile = tmp_path / "passphrase"
        passfile.write_text(PASSPHRASE)

        # 1. The chair sets t = 3 and a deadline for each round, a day apart.
        chair = actors.official(people["chair"])
        chair.goto(f"{live.url}/voting/{ref_id}/manage")
        assert "jebkuri 3 no viņiem" in chair.get_by_test_id("threshold-example").inner_text()
        chair.get_by_label("Slieksnis: cik pilnvaroto vajag, lai atšifrētu").fill("3")
        for k, label in enumerate(DEADLINE_LABELS, start=1):
            when = to_riga(clock.now() + timedelta(days=k)).strftime("%Y-%m-%dT%H:%M")
            chair.get_by_label(label).fill(when)
        submit(chair, "Sākt atslēgu ģenerēšanu")
        assert chair.get_by_test_id("dkg-progress").is_visible()

        # 2. Each trustee signs in and keeps its page; commit and reveal with the tool.
        trustees = {}
        for i, email in enumerate(people["trustees"], start=1):
            page = actors.official(email)
            trustees[i] = Trustee(page, f"{live.url}/voting/{ref_id}/trustee", tmp_path,
                                  passfile, i)
        for i, t in trustees.items():
            t.page.goto(t.url)
            assert "Tagad: kārta „Apņemšanās”" in t.page.get_by_test_id("dkg-round").inner_text()
            t.dkg("commit", "--election-id", election_id, "--threshold", "3", "--trustees", "5",
                  "--index", str(i), "--name", f"Pilnvarotais {i}", "--state", str(t.state),
                  "--out", str(t.file("commit")), "--kdf-memory-mib", "64")
            t.upload(t.file("commit"))
        for t in trustees.values():
            t.dkg("reveal", "--state", str(t.state), "--out", str(t.file("reveal")))
            t.upload(t.file("reveal"))
        # 3. Shares: trustee 2's modified tool deals trustee 3 a wrong share.
        for i, t in trustees.items():
            if i != CHEAT:
                t.round("shares", "shares")
                continue
            _header, payload = open_blob(json.loads(t.state.read_text()), PASSPHRASE,
                                         STATE_FORMAT)
            state = dkg.DealerState.from_json(json.loads(payload))
            transcript = json.loads(t.transcript().read_text())
            t.file("shares").write_text(json.dumps(
                dkg.deal_shares(state, transcript, wrong_for=[VICTIM])))
            t.upload(t.file("shares"))
        # 4. Check: trustee 3 complains against trustee 2, who never answers (round 5).
        for t in trustees.values():
            t.round("check", "complaints")
        assert json.loads(trustees[VICTIM].file("complaints").read_text())["against"] == [CHEAT]
        trustees[CHEAT].page.reload()
        assert "Atbildēt" in trustees[CHEAT].page.get_by_test_id("dkg-round").inner_text()
        actors.close()
        clock.set(clock.now() + timedelta(days=len(DEADLINE_LABELS)))
        # 6. After the last deadline the chair opens the vote (trustees 1, 3, 4 and 5); each
        # qualified trustee downloads the final transcript and writes its secret key file.
        chair = actors.official(people["chair"])
        chair.goto(f"{live.url}/voting/{ref_id}/manage")
        assert chair.get_by_test_id("dkg-round").inner_text() == \
            "Pašlaik neviena kārta ziņojumus nepieņem."
        submit(chair, "Atvērt balsošanu")
        assert chair.get_by_test_id("stage").inner_text() == "notiek balsošana"
        for i in (1, 3, 4, 5):
            t = trustees[i]
            t.page = actors.official(people["trustees"][i - 1])
            t.dkg("finalize", "--state", str(t.state), "--transcript", str(t.transcript()),
                  "--out", str(t.file("secret")), "--kdf-memory-mib", "64")
        actors.close()
        clock.set(ONLINE_MONDAY)
        with live.app.app_context():
            _cast(live.app, clock, people)

        # 7. The polls close; trustee 5 is absent, trustees 1, 3 and 4 decrypt.
        clock.set(AFTER_CLOSE)
        chair = actors.official(people["chair"])
        chair.goto(f"{live.url}/voting/{ref_id}/manage")
        submit(chair, "Slēgt iecirkņus")
        for i in (1, 3, 4):
            t = trustees[i]
            page = actors.official(people["trustees"][i - 1])
            page.goto(t.url)
            with page.expect_download() as download:
                page.get_by_test_id("trustee-record").click()
            download.value.save_as(t.file("record"))
            _tool("--passphrase-file", str(passfile), "decrypt", "--secret", str(t.file("secret")),
                  "--tally", str(t.file("record")), "--out", str(t.file("partial")))
            page.get_by_label("Daļējā atšifrēšana (JSON fails, ko uzraksta referendum-trustee "
                              "decrypt)").fill(t.file("partial").read_text())
            submit(page, "Augšupielādēt daļējo atšifrēšanu")
            assert page.get_by_test_id("share-status").is_visible()

        # 8. The record: anyone downloads it and referendum-verify names who decrypted.
        public = actors.page()
        answer = public.request.get(f"{live.url}/voting/{ref_id}/record.json")
        assert answer.ok
        record = tmp_path / "record.json"
        record.write_bytes(answer.body())
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert verify_main([str(record), "--jobs", "1"]) == 0
        summary = out.getvalue()
        for line in ("threshold            3 of 5; qualified trustees [1, 3, 4, 5]",
                     "trustee 2 disqualified: did not answer the complaint of trustee 3",
                     "decrypted by         trustees [1, 3, 4]",
                     "did not decrypt:   trustees [5]"):
            assert line in summary, (line, summary)
        with live.app.app_context():
            from referendum_core.voting.models import Referendum, Stage

            session = live.app.extensions["portal_db"].new_session()
            ref = session.get(Referendum, ref_id)
            assert (ref.stage, ref.online_result_dict) == (Stage.TALLIED, {"yes": 2, "no": 1})
            session.close()
    finally:
        actors.close()
        with contextlib.suppress(StopIteration):
            next(server)
