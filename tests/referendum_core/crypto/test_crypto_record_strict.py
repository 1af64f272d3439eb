"""The verifier's checks of spec section 9, each against a record tampered to break it: audited
ballots never cast, alphas unique inside a ballot, strict JSON at any depth, the board's own
fields. Every refusal is a located :class:`CryptoError`, never another exception."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from referendum_core.crypto import group as g
from referendum_core.crypto.ballot import encrypt_ballot
from referendum_core.crypto.exceptions import CryptoError, InvalidBallot
from referendum_core.crypto.record import RecordBuilder, write_record
from referendum_core.crypto.simulate import simulate
from referendum_core.crypto.tally import partial_decrypt
from referendum_core.crypto.verify import verify_record, verify_record_file
from referendum_core.crypto.verify_cli import main as verify_cli


@pytest.fixture(scope="module")
def sim() -> Any:
    return simulate(12, 2, revote_share=0.25, audited=2, excluded=1, seed="strict-tests")


@pytest.fixture(scope="module")
def record(sim: Any) -> dict[str, Any]:
    return sim.record


def refused_at(record: dict[str, Any], where: str) -> CryptoError:
    with pytest.raises(CryptoError) as err:
        verify_record(record)
    assert err.value.location == where, str(err.value)
    return err.value


def file_refused_at(text: str, tmp_path: Path, where: str) -> CryptoError:
    path = tmp_path / "record.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CryptoError) as err:
        verify_record_file(str(path))
    assert err.value.location == where, str(err.value)
    return err.value


def rebuilt(sim: Any, record: dict[str, Any], extra: list[tuple[str, dict[str, Any]]]) -> dict:
    """The record re-made by a dishonest server: its board plus ``extra`` ballots cast at the
    end, audited ballots listed as published, head and tally recomputed and decrypted with the
    trustees' keys, so that only the rule under test is broken."""
    b = RecordBuilder(record["manifest"])
    for e in record["board"]:
        b.cast(e["alias"], e["ballot"], e["cast_at"])
    for alias, ballot in extra:
        b.cast(alias, ballot, record["board"][-1]["cast_at"])
    b.audited = copy.deepcopy(record["audited"])  # listed without reserving their alphas
    for a in record["excluded_aliases"]:
        b.exclude(a)
    agg = b.aggregate()
    for i, secret in enumerate(sim.secrets):
        b.add_decryption(i, partial_decrypt(secret, b.context.election_hash, agg))
    return b.record(record.get("in_person"))


def opened_ballot(record: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    revealed = record["audited"][0]["ballot"]
    ballot = {k: v for k, v in revealed.items() if k not in ("randomness", "plaintext")}
    return ballot["alias"], ballot


# --------------------------------------------------------------- 1. an audited ballot is never cast


def test_audited_ballot_on_the_board_is_refused(sim: Any, record: dict[str, Any]) -> None:
    """Spec 9: a revealed ballot that also sits on the board and in the tally is rejected, and
    the tracker lookup never calls it counted."""
    alias, ballot = opened_ballot(record)
    bad = rebuilt(sim, record, [(alias, ballot)])
    n = len(record["board"])
    err = refused_at(bad, "audited[0].ballot.choices[0].alpha")
    assert f"board[{n}]" in err.message and "never cast" in err.message
    # The other order of the record's keys reports the board entry instead.
    reordered = {k: bad[k] for k in ("manifest", "election_hash", "audited")} | bad
    err = refused_at(reordered, f"board[{n}].ballot.choices[0].alpha")
    assert "audited[0]" in err.message
    with pytest.raises(CryptoError):
        verify_record(bad, tracker=bad["board"][n]["tracker"])


def test_audited_ballot_reusing_one_alpha_is_refused(sim: Any, record: dict[str, Any]) -> None:
    """Spec 9: knowing an opened ballot's randomness, anyone can build another valid ballot with
    one of its alphas; it is refused as well."""
    revealed = record["audited"][1]["ballot"]
    r0 = g.parse_scalar(revealed["randomness"][0])
    draws: Iterator[g.Scalar] = iter([r0])
    alias = record["board"][0]["alias"]
    enc = encrypt_ballot(record["manifest"], alias, [0, 1],
                         lambda: next(draws, None) or g.random_scalar())
    bad = rebuilt(sim, record, [(alias, enc.ballot)])
    refused_at(bad, "audited[1].ballot.choices[0].alpha")


def test_builder_and_tracker_lookup_keep_audited_ballots_out(record: dict[str, Any]) -> None:
    b = RecordBuilder(record["manifest"])
    b.add_audited(record["audited"][0]["ballot"])
    alias, ballot = opened_ballot(record)
    with pytest.raises(InvalidBallot):
        b.cast(alias, ballot, record["board"][0]["cast_at"])
    status = verify_record(record, tracker=record["audited"][0]["tracker"]).tracker
    assert status is not None and status.status == "audited"


def test_two_audited_ballots_sharing_an_alpha_are_refused(record: dict[str, Any]) -> None:
    r = copy.deepcopy(record)
    r["audited"].append(copy.deepcopy(r["audited"][0]))
    refused_at(r, "audited[2].ballot.choices[0].alpha")


# ------------------------------------------------------- 2. alphas are unique inside a ballot too


def reused_randomness_ballot(manifest: dict[str, Any], alias: str) -> dict[str, Any]:
    r = g.random_scalar()
    draws = iter([r, r])
    return encrypt_ballot(manifest, alias, [1, 0],
                          lambda: next(draws, None) or g.random_scalar()).ballot


def test_alpha_reused_inside_a_ballot_is_refused(sim: Any, record: dict[str, Any]) -> None:
    """Spec 9: alpha_0 == alpha_1 makes beta_0 − beta_1 = (m_0 − m_1)·B readable by anyone."""
    alias = record["board"][3]["alias"]
    ballot = reused_randomness_ballot(record["manifest"], alias)
    b0, b1 = (bytes.fromhex(c["beta"]) for c in ballot["choices"])
    assert g.sub(b0, b1) == g.small_multiple(1)  # the vote, read without any key
    with pytest.raises(InvalidBallot) as err:
        RecordBuilder(record["manifest"]).cast(alias, ballot, record["board"][0]["cast_at"])
    assert err.value.location == "choices[1].alpha"
    r = copy.deepcopy(record)
    r["board"][3]["ballot"] = ballot  # (a tracker and head made to match would not help)
    refused_at(r, "board[3].ballot.choices[1].alpha")


# ------------------------------------------------------------------------------ 3. strict JSON


def _text(record: dict[str, Any]) -> str:
    return json.dumps(record, separators=(",", ":"))


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        # a duplicate key deep inside a streamed board entry, and inside the manifest
        (lambda t, r: t.replace('"challenge":', '"response":"00","challenge":', 1),
         "board[0].ballot.choices[0].proof[0]"),
        (lambda t, r: t.replace('"lv":', '"lv":"x","lv":', 1), "manifest.question.text"),
        (lambda t, r: t.replace('"counted":', '"counted":0,"counted":', 1), "tally"),
        # lone surrogates, as an alias and as a key
        (lambda t, r: t.replace(json.dumps(r["board"][2]["alias"]), '"\\ud800x"', 1),
         "board[2].alias"),
        (lambda t, r: t.replace('"in_person":{', '"in_person":{"\\udc00":1,', 1), "in_person"),
        # nesting the format never needs, shallow and very deep
        (lambda t, r: t.replace('"excluded_aliases":[', '"excluded_aliases":[[[[[[[[["a"]]]]]]]],',
                                1), "excluded_aliases[0][0][0][0][0][0][0]"),
        (lambda t, r: t.replace('"alpha":', '"alpha":' + "[" * 50000 + "]" * 50000 + ',"x":', 1),
         "board[0]"),
    ],
)
def test_strict_json_is_located(
    record: dict[str, Any], tmp_path: Path, edit: Callable[[str, dict], str], where: str
) -> None:
    """Spec 9, strict JSON: each breach is refused with its path, in a file as in memory."""
    text = edit(_text(record), record)
    file_refused_at(text, tmp_path, where)


def test_cli_prints_invalid_at_path_never_a_traceback(
    record: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _text(record).replace('"challenge":', '"challenge":"00","challenge":', 1)
    path = tmp_path / "dup.json"
    path.write_text(text, encoding="utf-8")
    assert verify_cli([str(path), "--jobs", "1"]) == 1
    out = capsys.readouterr().out
    assert "INVALID at board[0].ballot.choices[0].proof[0]: duplicate key 'challenge'" in out
    path.write_bytes(b'{"manifest": "\xff"}')
    assert verify_cli([str(path), "--jobs", "1"]) == 1
    assert "INVALID" in capsys.readouterr().out


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value[:2]):
            yield from _paths(v, (*path, i))


def _set(record: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    r = copy.deepcopy(record)
    target: Any = r
    for p in path[:-1]:
        target = target[p]
    target[path[-1]] = value
    return r


def test_null_or_wrong_type_anywhere_is_a_clean_refusal(record: dict[str, Any]) -> None:
    """Spec 9: null, or the wrong type, wherever a list (or anything) is due: a located refusal,
    never a crash. Every value of a small record (two elements of each list) is replaced in
    turn."""
    small = copy.deepcopy(record)
    small["board"] = small["board"][:3]
    crashes = []
    for path in list(_paths(small))[1:]:
        for wrong in (None, "x", 7, True, {}, [], [None], {"a": None}):
            try:
                verify_record(_set(small, path, wrong))
            except CryptoError:
                continue
            except Exception as exc:  # noqa: BLE001 - what this test looks for
                crashes.append(f"{path} = {wrong!r}: {type(exc).__name__}: {exc}")
    assert not crashes, "\n".join(crashes[:20])


# --------------------------------------------------------------------------- 4. board fields


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda r: [e.update(seq=e["seq"] - 1) for e in r["board"]], "board[0].seq"),
        (lambda r: [e.update(seq=e["seq"] + 1) for e in r["board"][4:]], "board[4].seq"),
        (lambda r: r["board"][3].update(seq=True), "board[3].seq"),
        (lambda r: r["board"][5].update(cast_at=r["board"][4]["cast_at"].replace("Z", ".5Z")),
         "board[5].cast_at"),
        (lambda r: r["board"][5].update(cast_at=r["board"][4]["cast_at"].replace("Z", "+00:00")),
         "board[5].cast_at"),
        (lambda r: r["board"][5].update(cast_at=r["board"][4]["cast_at"].replace("T", " ")),
         "board[5].cast_at"),
        (lambda r: r["board"][5].update(cast_at="2026-02-30T10:00:00Z"), "board[5].cast_at"),
        (lambda r: r["board"][5].update(cast_at="2026-02-28T23:59:59Z"), "board[5].cast_at"),
        (lambda r: r["board"][5].update(cast_at="2026-03-14T18:00:01Z"), "board[5].cast_at"),
        (lambda r: r["board"][6].update(cast_at=r["board"][0]["cast_at"]), "board[6].cast_at"),
    ],
)
def test_board_fields(
    record: dict[str, Any], change: Callable[[dict[str, Any]], Any], where: str
) -> None:
    """Spec 9: seq runs 1, 2, 3 … without gaps; cast_at is YYYY-MM-DDTHH:MM:SSZ inside
    [opens_at, closes_at] and never decreases along the board."""
    r = copy.deepcopy(record)
    change(r)
    refused_at(r, where)


def test_null_in_person_is_not_an_absent_one(record: dict[str, Any]) -> None:
    r = copy.deepcopy(record)
    r["in_person"] = None
    refused_at(r, "in_person")
    del r["in_person"]
    assert verify_record(r).in_person is None


def test_equal_cast_at_and_the_window_edges_are_accepted(sim: Any, record: dict[str, Any]) -> None:
    r = copy.deepcopy(record)
    for e in r["board"][:3]:
        e["cast_at"] = r["manifest"]["opens_at"]
    r["board"][-1]["cast_at"] = r["manifest"]["closes_at"]
    assert verify_record(r).counted == record["tally"]["counted"]


def test_written_record_verifies_from_file(record: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "ok.json"
    with open(path, "w", encoding="utf-8") as fp:
        write_record(record, fp)
    assert verify_record_file(str(path)).counted == record["tally"]["counted"]


@pytest.mark.parametrize("when", ["2026-03-01 07:00:00Z", "2026-03-01T07:00Z",
                                  "2026-03-01T09:00:00+02:00", "2026-03-01t07:00:00z"])
def test_manifest_times_are_rfc3339_utc(record: dict[str, Any], when: str) -> None:
    """Spec section 4: opens_at and closes_at are RFC 3339 UTC times; the looser ISO 8601 forms
    Python would read are refused, so every verifier reads the same window."""
    r = copy.deepcopy(record)
    r["manifest"]["opens_at"] = when
    err = refused_at(r, "manifest")
    assert "opens_at" in err.message


def test_null_or_wrong_type_in_a_file_is_a_clean_refusal(record: dict[str, Any],
                                                         tmp_path: Path) -> None:
    """The same through the streaming reader, for the record's keys and one board entry's and
    one audited entry's fields, with ``null`` and a string where a list or object is due."""
    small = copy.deepcopy(record)
    small["board"] = small["board"][:2]
    paths = [p for p in _paths(small)
             if 1 <= len(p) <= 2 or (len(p) <= 4 and p[:2] in (("board", 0), ("audited", 0)))]
    crashes = []
    path_file = tmp_path / "r.json"
    for path in paths:
        for wrong in (None, "x", {}):
            with open(path_file, "w", encoding="utf-8") as fp:
                write_record(_set(small, path, wrong), fp)
            try:
                verify_record_file(str(path_file))
            except CryptoError:
                continue
            except Exception as exc:  # noqa: BLE001 - what this test looks for
                crashes.append(f"{path} = {wrong!r}: {type(exc).__name__}: {exc}")
    assert not crashes, "\n".join(crashes[:20])


def test_duplicate_key_is_located_across_read_chunks(
    record: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader takes the file in chunks; a duplicate found before an entry is fully read is
    still located inside the entry."""
    from referendum_core.crypto import jsonstream

    monkeypatch.setattr(jsonstream, "_CHUNK", 64)
    text = _text(record).replace('"challenge":', '"response":"00","challenge":', 1)
    file_refused_at(text, tmp_path, "board[0].ballot.choices[0].proof[0]")
