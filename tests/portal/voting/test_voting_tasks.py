"""Reminders before each key-generation round's deadline (docs/spec/threshold-trustees.md
section 2): beat runs the task; trustees who still owe the round get one e-mail per lead time
(24 h and 2 h by default, ``DKG_REMINDER_HOURS``), in their language, and nobody gets it twice."""
from __future__ import annotations

import socket
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from portal.celery_app import celery
from portal.voting.tasks import remind_key_generation_rounds
from referendum_core.crypto import dkg
from referendum_core.voting.key_generation import (
    add_key_generation_message,
    start_key_generation,
)
from tests.voting_support import build_scenario, dkg_deadlines


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SMTP_PORT = _free_port()


class _Inbox:
    def __init__(self) -> None:
        self.mails = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        self.mails.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture()
def app_overrides():
    return {"MAIL_URL": f"smtp://127.0.0.1:{SMTP_PORT}", "BASE_URL": "https://portal.example"}


@pytest.fixture()
def inbox():
    handler = _Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=SMTP_PORT)
    controller.start()
    yield handler
    controller.stop()


def test_the_reminder_task_is_on_the_beat_schedule(app):
    entry = celery.conf.beat_schedule["voting-key-generation-reminders"]
    assert entry["task"] == "portal.voting.tasks.remind_key_generation_rounds"
    assert entry["schedule"] <= 3600
    assert "portal.voting.tasks.send_key_generation_reminder" in celery.tasks


def test_trustees_who_owe_the_round_are_reminded_once_per_lead_time(app, db_session, clock,
                                                                    keys, inbox):
    s = build_scenario(db_session, clock, keys, trustees=3, open_now=False, upload_keys=False)
    deadlines = dkg_deadlines(clock.now(), timedelta(days=6))
    start_key_generation(db_session, clock, s.chair, s.referendum, 2, deadlines)
    _state, message = dkg.commit(dkg.Params(s.referendum.election_id, 2, 3), 1, "Trustee 1")
    add_key_generation_message(db_session, clock, s.trustees[0], s.referendum, message)
    s.trustees[2].locale = "en"
    db_session.commit()
    assert remind_key_generation_rounds() == 0  # the commit deadline is 28.8 h away
    clock.set(deadlines["commit"] - timedelta(hours=23))
    assert remind_key_generation_rounds() == 2
    assert remind_key_generation_rounds() == 0
    assert sorted(m["To"] for m in inbox.mails) == sorted(u.email for u in s.trustees[1:])
    by_to = {m["To"]: m for m in inbox.mails}
    lv, en = by_to[s.trustees[1].email], by_to[s.trustees[2].email]
    assert lv["Subject"].startswith("Atgādinājums: atslēgu ģenerēšanas termiņš")
    assert "1. kārta, apņemšanās" in lv.get_content()
    assert f"https://portal.example/voting/{s.referendum.id}/trustee" in lv.get_content()
    assert "round 1, commit" in en.get_content() and "trustee number 3" in en.get_content()
    clock.set(deadlines["commit"] - timedelta(hours=1))
    assert remind_key_generation_rounds() == 2
    assert remind_key_generation_rounds() == 0
    assert len(inbox.mails) == 4
