"""A trustee's files have one name each (``referendum_core.crypto.file_names``): the trustee
page's commands, the names its downloads are saved under (Content-Disposition), the README
and the trustee guide say the same."""
from __future__ import annotations

import re
from pathlib import Path

from referendum_core.crypto.file_names import TrusteeFiles, attachment
from referendum_core.voting import cast_ballot
from tests.portal.voting.test_key_generation_web import deadline_fields
from tests.voting_support import AFTER_CLOSE, ONLINE_MONDAY, YES_VOTE, build_scenario

ROOT = Path(__file__).resolve().parents[3]
PLACEHOLDER = TrusteeFiles("<election id>")


def _saved_as(answer) -> str:
    return re.fullmatch(r'attachment; filename="([^"]+)"',
                        answer.headers["Content-Disposition"]).group(1)


def test_the_decrypting_trustee_page_and_the_record_download_agree(db_session, clock, keys,
                                                                    login_as):
    s = build_scenario(db_session, clock, keys)
    ref = s.referendum
    files = TrusteeFiles(ref.election_id)
    # With no online ballot the count needs no trustee; one ballot keeps the decryption open.
    clock.set(ONLINE_MONDAY)
    cast_ballot(db_session, clock, s.voters[0], ref, s.ballot(s.voters[0], YES_VOTE))
    db_session.commit()
    clock.set(AFTER_CLOSE)
    assert login_as(s.chair).post(f"/voting/{ref.id}/close").status_code == 302
    trustee = login_as(s.trustees[0])
    page = trustee.get(f"/voting/{ref.id}/trustee").get_data(as_text=True)
    assert (f"referendum-trustee decrypt --secret {files.secret} --tally {files.record} "
            f"--out {files.partial}") in page
    assert f'data-testid="record-name">{files.record}<' in page
    record = trustee.get(f"/voting/{ref.id}/record.json")
    assert record.headers["Content-Disposition"] == attachment(files.record)
    assert _saved_as(record) == files.record


def test_the_key_generation_page_and_the_transcript_download_agree(db_session, clock, keys,
                                                                   login_as):
    s = build_scenario(db_session, clock, keys, trustees=3, open_now=False, upload_keys=False)
    db_session.commit()
    ref = s.referendum
    files = TrusteeFiles(ref.election_id)
    assert login_as(s.chair).post(f"/voting/{ref.id}/threshold", data=deadline_fields(
        clock.now(), threshold="2")).status_code == 302
    trustee = login_as(s.trustees[0])
    page = trustee.get(f"/voting/{ref.id}/trustee").get_data(as_text=True)
    assert f'data-testid="transcript-name">{files.transcript}<' in page
    assert (f"dkg finalize --state {files.state} --transcript {files.transcript} "
            f"--out {files.secret}") in page
    transcript = trustee.get(f"/voting/{ref.id}/key-generation.json")
    assert _saved_as(transcript) == files.transcript


def test_the_trustee_page_before_key_generation_names_the_secret(db_session, clock, keys,
                                                                 login_as):
    s = build_scenario(db_session, clock, keys, open_now=False, upload_keys=False)
    db_session.commit()
    ref = s.referendum
    page = login_as(s.trustees[0]).get(f"/voting/{ref.id}/trustee").get_data(as_text=True)
    assert f"--out {TrusteeFiles(ref.election_id).secret}</code>" in page


def test_the_readme_and_the_guide_use_the_same_names():
    guide = (ROOT / "docs" / "guide" / "trustee.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in (PLACEHOLDER.secret, PLACEHOLDER.record, PLACEHOLDER.transcript,
                 PLACEHOLDER.partial):
        assert name in guide, name
    for name in (PLACEHOLDER.secret, PLACEHOLDER.record, PLACEHOLDER.partial):
        assert name in readme, name
    # No other name for the same files.
    for text in (guide, readme):
        for stale in ("secret.json", "record.json", "partial.json", "key-generation.json"):
            assert not re.search(rf"(?<![-\w<>]){re.escape(stale)}", text), stale
