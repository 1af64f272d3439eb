"""Personal codes never reach logs, URLs or error pages. Logs are captured across a whole flow:
a voter signs in with a one-time code, a commission looks a voter up, signs an initiative in
person (also with an invalid code), and imports a register extract with broken rows."""
from __future__ import annotations

import io
import logging
import re
from datetime import date

from tests.register_data import code_for, csv_bytes, person_row
from tests.security.matrix_support import build_world, client_for, routes

PERSONAL_CODE = re.compile(r"(?<!\d)(\d{6}-?\d{5})(?!\d)")
INVALID = "010101-12345"  # the right shape, a wrong check digit
BORN = date(1970, 6, 1)


def _codes_in(text: str) -> list[str]:
    return PERSONAL_CODE.findall(text)


def test_no_route_takes_a_personal_code_in_its_path(app):
    for _method, endpoint, rule in routes(app):
        for name in rule.arguments:
            assert not re.search(r"person|personal|pk|personas", name), (endpoint, name)


def test_personal_codes_stay_out_of_logs_urls_and_error_pages(app, db_session, clock, keys,
                                                              people, caplog):
    caplog.set_level(logging.DEBUG)
    world = build_world(app, db_session, clock, keys, people)
    scenario = world.extra["scenario"]
    known = scenario.codes[1]
    locations: list[str] = []
    pages: list[str] = []

    def keep(response):
        locations.append(response.headers.get("Location", ""))
        return response

    # A voter signs in with a one-time code (and first types an invalid code).
    voter = app.test_client()
    bad = voter.post("/voter/login", data={"personal_code": INVALID})
    assert bad.status_code in (400, 422)
    pages.append(bad.get_data(as_text=True))
    keep(voter.post("/voter/login", data={"personal_code": known}))
    page = voter.get("/voter/code").get_data(as_text=True)
    shown = re.search(r"\b(\d{6})\b", page).group(1)
    keep(voter.post("/voter/code", data={"code": "000000" if shown != "000000" else "111111"}))
    keep(voter.post("/voter/code", data={"code": shown}))

    # The commission looks a voter up (valid, unknown and invalid codes).
    member = client_for(app, world.users["member"], clock)
    case_id = scenario.referendum.case_id
    for code in (known, code_for(BORN, 999), INVALID):
        response = keep(member.post("/register/lookup", data={"case_id": case_id,
                                                              "personal_code": code}))
        pages.append(response.get_data(as_text=True))
    # In-person signatures on the initiative (invalid and valid codes).
    initiative = world.values["initiative_id"]
    for code in (INVALID, known):
        response = keep(member.post(f"/initiatives/{initiative}/signatures", data={
            "personal_code": code, "certifier_type": "notary", "certifier_name": "Notāre",
            "signed_on": "2026-03-02"}))
        pages.append(response.get_data(as_text=True))
    # A register import with broken rows.
    chair = client_for(app, world.users["chair"], clock)
    rows = [person_row(BORN, 500), ("12345678901", "X", "1980-01-01", "LV", "0023000"),
            (INVALID, "Y", "1970-01-01", "LV", "0023000"), ("only", "three", "cols")]
    response = keep(chair.post("/register/import", data={
        "source": "population", "municipality_id": str(scenario.municipality.id),
        "file_format": "csv", "mode": "continue",
        "upload": (io.BytesIO(csv_bytes(rows)), "extract.csv")},
        content_type="multipart/form-data"))
    pages.append(response.get_data(as_text=True))
    if response.status_code == 302:
        pages.append(chair.get(response.headers["Location"]).get_data(as_text=True))

    logged = "\n".join(f"{r.getMessage()} {r.args!r} {getattr(r, 'exc_text', '')}"
                       for r in caplog.records)
    assert not _codes_in(logged), _codes_in(logged)
    assert not [loc for loc in locations if _codes_in(loc)]
    for html in pages:
        for code in (INVALID, known, INVALID.replace("-", ""), known.replace("-", "")):
            assert code not in html
