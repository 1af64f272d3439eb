"""The living demo (``portal.seed_story``) served for browser tests: the demo seed and this
week's story on a demo clock over a fixed real moment, so every page of every demo role can be
walked (``tests/walk``) and photographed for the guide (``tests/guide``)."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from portal.seed import DEMO_DOMAIN, DEMO_VOTERS
from referendum_core.clock import FixedClock, demo_clock
from tests.browser import LiveServer, require_chromium, sign_in_official, sign_in_voter

# A Monday morning in Riga; the demo clock makes it the online-voting Tuesday of its week.
REAL_NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
# Every demo person: key -> e-mail (officials) or personal code (voters).
DEMO_PEOPLE = {
    "cvk_admin": f"admin@{DEMO_DOMAIN}", "cvk_officer": f"officer@{DEMO_DOMAIN}",
    "chair": f"chair.adazi@{DEMO_DOMAIN}", "member": f"member.adazi@{DEMO_DOMAIN}",
    "member_riga": f"member.riga@{DEMO_DOMAIN}", "observer": f"observer.adazi@{DEMO_DOMAIN}",
    "trustee": f"trustee@{DEMO_DOMAIN}", "voter": DEMO_VOTERS[0][0],
}


def start_story_server(tmp_dir: Path) -> Iterator[tuple[LiveServer, FixedClock, dict]]:
    """Serve the demo with this week's story; yields the server, the real clock (move it to
    step past TOTP replays) and the story's ids."""
    from portal.seed_story import seed_story
    from tests.browser import start_live_server

    require_chromium()
    real = FixedClock(REAL_NOW)
    server = start_live_server(tmp_dir, clock=demo_clock("auto", real), DEMO_CLOCK="auto",
                               SESSION_IDLE_MINUTES=60 * 24)
    live = next(server)
    app = live.app
    with app.app_context():
        session = app.extensions["portal_db"].new_session()
        story = seed_story(session, app.extensions["clock"], app.extensions["calendar"],
                           app.extensions["keys"], tmp_dir)
        session.commit()
        session.close()
    try:
        yield live, real, story
    finally:
        with contextlib.suppress(StopIteration):
            next(server)


def sign_in(page: Any, live: LiveServer, real: FixedClock, who: str) -> None:
    """Sign a demo person in as they would (officials: password then TOTP; voters: the code
    shown on screen). Each official's sign-in is a TOTP step later than the last."""
    ident = DEMO_PEOPLE[who]
    if "@" in ident:
        real.advance(timedelta(seconds=31))
        sign_in_official(page, live, ident, at=real.now())
    else:
        sign_in_voter(page, live, ident)
