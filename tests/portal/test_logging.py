"""JSON log lines with request ids; personal codes masked in every line (defence in depth)."""
from __future__ import annotations

import io
import json
import logging

import pytest

from portal.logging import (
    PERSONAL_CODE_MASK,
    configure_logging,
    make_handler,
    mask_personal_codes,
    new_request_id,
    valid_request_id,
)


@pytest.fixture()
def captured():
    """A logger whose records go through the portal's JSON handler into a buffer."""
    buffer = io.StringIO()
    handler = make_handler("json", stream=buffer)
    logger = logging.getLogger("portal.test-logging")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False

    def lines():
        return [json.loads(line) for line in buffer.getvalue().splitlines()]

    yield logger, lines
    logger.removeHandler(handler)


@pytest.mark.parametrize("text, expected", [
    ("code 161175-19997 here", f"code {PERSONAL_CODE_MASK} here"),
    ("code 16117519997.", f"code {PERSONAL_CODE_MASK}."),
    ("a=328673-00679,b=161175-19997", f"a={PERSONAL_CODE_MASK},b={PERSONAL_CODE_MASK}"),
    # Not personal codes: longer numbers, timestamps, ids, phone numbers.
    ("order 1234567890123", "order 1234567890123"),
    ("2026-03-02 10:00:00", "2026-03-02 10:00:00"),
    ("phone +371 20000000", "phone +371 20000000"),
    ("id 12345", "id 12345"),
])
def test_mask_personal_codes(text, expected):
    assert mask_personal_codes(text) == expected


def test_json_line_masks_codes_in_message_args_extra_and_traceback(captured):
    logger, lines = captured
    logger.info("voter %s signed", "161175-19997", extra={"who": "32867300679"})
    try:
        raise ValueError("bad code 161175-19997")
    except ValueError:
        logger.exception("failed for %s", "161175-19997")
    first, second = lines()
    assert first["msg"] == f"voter {PERSONAL_CODE_MASK} signed"
    assert first["who"] == PERSONAL_CODE_MASK
    assert first["level"] == "INFO" and first["logger"] == "portal.test-logging"
    assert first["ts"].endswith("+00:00") and first["request_id"] is None
    assert "ValueError" in second["exc"]
    raw = "\n".join(json.dumps(line) for line in lines())
    assert "19997" not in raw and "00679" not in raw


def test_every_line_of_a_request_carries_its_request_id(app, client, captured):
    logger, lines = captured
    request_logger = logging.getLogger("portal.request")
    request_logger.addHandler(logger.handlers[0])
    old_level = request_logger.level
    request_logger.setLevel(logging.INFO)

    @app.get("/_log-test")
    def _log_test():
        logger.warning("inside the view for 161175-19997")
        return "ok"

    try:
        response = client.get("/_log-test", headers={"X-Request-ID": "edge-0123456789"})
    finally:
        request_logger.removeHandler(logger.handlers[0])
        request_logger.setLevel(old_level)
    assert response.headers["X-Request-ID"] == "edge-0123456789"
    view_line, access_line = lines()
    assert view_line["request_id"] == access_line["request_id"] == "edge-0123456789"
    assert view_line["msg"] == f"inside the view for {PERSONAL_CODE_MASK}"
    assert access_line["status"] == 200 and access_line["method"] == "GET"
    assert access_line["path"] == "/_log-test" and access_line["endpoint"] == "_log_test"
    assert isinstance(access_line["duration_ms"], float)


def test_the_request_id_is_never_masked_but_the_rest_of_the_line_is(captured):
    """About one random hex id in 45 holds eleven digits in a row, which the mask takes for a
    personal code, and the id in the log would not match the response's. The mask covers
    everything but the request id (which can never hold a personal code: see below)."""
    request_id = "cb78900299974c0ab1cdfa2521907bb1"  # eleven digits in a row
    assert mask_personal_codes(request_id) != request_id
    logger, lines = captured
    logger.info("lookup of %s", "161175-19997", extra={"request_id": request_id})
    [line] = lines()
    assert line["request_id"] == request_id
    assert line["msg"] == f"lookup of {PERSONAL_CODE_MASK}"
    text = io.StringIO()
    handler = make_handler("text", stream=text)
    record = logging.LogRecord("portal.x", logging.INFO, __file__, 1, "code 161175-19997",
                               None, None)
    record.request_id = request_id
    handler.handle(record)
    assert f"[{request_id}] code {PERSONAL_CODE_MASK}" in text.getvalue()
    assert record.request_id == request_id


def test_an_incoming_request_id_shaped_like_a_personal_code_is_replaced(app, client):
    answer = client.get("/healthz", headers={"X-Request-ID": "16117519997-edge"})
    assert answer.headers["X-Request-ID"] != "16117519997-edge"
    assert valid_request_id("161175-19997") is None
    assert valid_request_id(new_request_id())


def test_request_id_validation():
    assert valid_request_id("0123456789abcdef") == "0123456789abcdef"
    assert valid_request_id("a1b2c3d4-e5f6:7.8_9") == "a1b2c3d4-e5f6:7.8_9"
    for bad in (None, "", "short", "with space 123", "x" * 129, "line\nbreak123", "ünicode123"):
        assert valid_request_id(bad) is None


def test_configure_logging_installs_one_handler():
    root = logging.getLogger()
    before = list(root.handlers)
    level = root.level
    stream = io.StringIO()
    try:
        configure_logging("json", "WARNING", stream=stream)
        configure_logging("json", "WARNING", stream=stream)
        ours = [h for h in root.handlers if h not in before]
        assert len(ours) == 1
        logging.getLogger("portal.somewhere").warning("code 161175-19997")
        assert json.loads(stream.getvalue().splitlines()[-1])["msg"] == (
            f"code {PERSONAL_CODE_MASK}")
    finally:
        for handler in list(root.handlers):
            if handler not in before:
                root.removeHandler(handler)
        root.setLevel(level)


def test_a_generated_request_id_is_never_shaped_like_a_personal_code(monkeypatch):
    """About one random hex id in 45 holds eleven digits in a row; such an id is drawn again
    (masked in the log, it would no longer match the id the response returned)."""
    import uuid

    import portal.logging as module

    drawn = iter([uuid.UUID("009e3188c664484eb53889274032a293"),
                  uuid.UUID("0123456789abcdef0123456789abcdef")])
    monkeypatch.setattr(module.uuid, "uuid4", lambda: next(drawn))
    assert new_request_id() == "0123456789abcdef0123456789abcdef"
