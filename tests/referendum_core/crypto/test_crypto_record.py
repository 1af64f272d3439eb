"""Whole records: a simulated election verifies, and every tampering is caught where it is."""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from referendum_core.crypto import group as g
from referendum_core.crypto.ballot import encrypt_ballot
from referendum_core.crypto.exceptions import CryptoError
from referendum_core.crypto.jsonstream import iter_object
from referendum_core.crypto.record import write_record
from referendum_core.crypto.simulate import simulate
from referendum_core.crypto.verify import STREAM_KEYS, verify_record, verify_record_file


@pytest.fixture(scope="module")
def sim() -> Any:
    return simulate(40, 3, revote_share=0.25, audited=3, excluded=4, seed="record-tests")


@pytest.fixture(scope="module")
def record(sim: Any) -> dict[str, Any]:
    return sim.record


def refuses(record: dict[str, Any], where: str) -> CryptoError:
    with pytest.raises(CryptoError) as err:
        verify_record(record)
    assert err.value.location == where, str(err.value)
    return err.value


def test_simulated_record_verifies(sim: Any, record: dict[str, Any]) -> None:
    s = verify_record(record)
    assert list(s.result.values()) == sim.expected
    assert s.ballots_on_board == 50
    assert s.voters == 40
    assert s.superseded == 10
    assert s.excluded_on_board == 4
    assert s.counted == 36 == sum(sim.expected)
    assert s.audited == 3
    assert s.board_head == record["board_head"]


def test_file_streaming_any_layout_and_parallel(record: dict[str, Any], tmp_path: Path) -> None:
    layouts = {
        "written": lambda fp: write_record(record, fp),
        "sorted-keys": lambda fp: json.dump(record, fp, sort_keys=True),  # board before manifest
        "pretty": lambda fp: json.dump(record, fp, indent=3, ensure_ascii=True),
        "reversed": lambda fp: json.dump(dict(reversed(list(record.items()))), fp),
    }
    expected = verify_record(record)
    for name, dump in layouts.items():
        path = tmp_path / f"{name}.json"
        with open(path, "w", encoding="utf-8") as fp:
            dump(fp)
        for jobs in (1, 2):
            assert verify_record_file(str(path), jobs=jobs) == expected, (name, jobs)


def test_stream_reader_small_chunks(
    record: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from referendum_core.crypto import jsonstream

    monkeypatch.setattr(jsonstream, "_CHUNK", 7)
    buf = io.StringIO()
    json.dump({"n": 12345678901234567890, "board": record["board"][:3], "z": [1, {"a": "ā"}]}, buf)
    buf.seek(0)
    out = {}
    for k, v in iter_object(buf, STREAM_KEYS):
        out[k] = list(v) if k == "board" else v
    assert out == {"n": 12345678901234567890, "board": record["board"][:3], "z": [1, {"a": "ā"}]}


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1.5}',
        '{"a": NaN}',
        '{"a": 1, "a": 2}',
        '{"a": 1} x',
        "[1]",
        '{"a": {"b": 1, "b": 1}}',
    ],
)
def test_stream_reader_refuses_forbidden_json(text: str) -> None:
    with pytest.raises(CryptoError):
        dict(iter_object(io.StringIO(text), STREAM_KEYS))


def test_tracker_lookup(record: dict[str, Any]) -> None:
    counted = verify_record(record, tracker=record["board"][-1]["tracker"]).tracker
    assert (
        counted is not None
        and counted.status == "counted"
        and counted.location == f"board[{len(record['board']) - 1}]"
    )
    audited = verify_record(record, tracker=record["audited"][0]["tracker"]).tracker
    assert audited is not None and audited.status == "audited"
    missing = verify_record(record, tracker="ab" * 32).tracker
    assert missing is not None and missing.status == "not found"
    board = record["board"]
    later = {e["alias"]: i for i, e in enumerate(board)}
    superseded = next(i for i, e in enumerate(board) if later[e["alias"]] != i)
    excluded = later[record["excluded_aliases"][0]]
    for i, status in ((superseded, "superseded"), (excluded, "excluded")):
        found = verify_record(record, tracker=board[i]["tracker"]).tracker
        assert found is not None and (found.status, found.location) == (status, f"board[{i}]")


def tamper(record: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    r = copy.deepcopy(record)
    change(r)
    return r


def _flip_hex(h: str) -> str:
    raw = bytearray(bytes.fromhex(h))
    raw[5] ^= 1
    return raw.hex()


def test_tampered_ballot_on_board(record: dict[str, Any]) -> None:
    def change(r: dict[str, Any]) -> None:
        p = r["board"][17]["ballot"]["choices"][1]["proof"][0]
        p["response"] = _flip_hex(p["response"])

    refuses(tamper(record, change), "board[17].ballot.choices[1].proof")


def test_replaced_ballot_changes_tracker_and_head(record: dict[str, Any], sim: Any) -> None:
    ctx_manifest = record["manifest"]
    alias = record["board"][5]["alias"]
    new = encrypt_ballot(ctx_manifest, alias, [0, 1])

    def swap(r: dict[str, Any]) -> None:
        r["board"][5]["ballot"] = new.ballot

    refuses(tamper(record, swap), "board[5].tracker")

    def swap_and_tracker(r: dict[str, Any]) -> None:
        r["board"][5]["ballot"] = new.ballot
        r["board"][5]["tracker"] = new.tracker

    refuses(tamper(record, swap_and_tracker), "board_head")


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda r: r["board"].pop(3), "board[3].seq"),
        (lambda r: r["board"].insert(2, r["board"].pop(4)), "board[2].seq"),
        (lambda r: r["board"][0].update(seq=7), "board[0].seq"),
        (lambda r: r["board"][9].update(alias="someone-else"), "board[9].ballot.alias"),
        (lambda r: r["board"][9].update(cast_at="2027-01-01T00:00:00Z"), "board[9].cast_at"),
        (lambda r: r["board"][9].update(extra=1), "board[9]"),
        (
            lambda r: r["board"].append(dict(r["board"][0], seq=len(r["board"]) + 1,
                                               cast_at=r["board"][-1]["cast_at"])),
            "board[50].ballot.choices[0].alpha",
        ),
        (lambda r: r.update(board_head="00" * 32), "board_head"),
        (lambda r: r.update(election_hash="00" * 32), "election_hash"),
        (lambda r: r["manifest"].update(municipality="0000000"), "election_hash"),
        (
            lambda r: r["manifest"]["trustees"][1]["pok"].update(
                response=r["manifest"]["trustees"][0]["pok"]["response"]
            ),
            "manifest.trustees[1].pok",
        ),
        (lambda r: r["excluded_aliases"].pop(), "tally.counted"),
        (lambda r: r["tally"].update(counted=r["tally"]["counted"] + 1), "tally.counted"),
        (
            lambda r: r["tally"]["aggregate"][0].update(A=r["tally"]["aggregate"][1]["A"]),
            "tally.aggregate[0].A",
        ),
        (
            lambda r: r["tally"]["result"].__setitem__(0, r["tally"]["result"][0] + 1),
            "tally.result[0]",
        ),
        (lambda r: r["tally"]["result"].reverse(), "tally.result[0]"),
        (lambda r: r["tally"]["decryptions"].pop(), "tally.decryptions"),
        (lambda r: r["tally"]["decryptions"][1].update(trustee=0), "tally.decryptions[1].trustee"),
        (
            lambda r: r["audited"][1]["ballot"]["plaintext"].reverse(),
            "audited[1].ballot.plaintext[0]",
        ),
        (lambda r: r.pop("tally"), "tally"),
    ],
)
def test_tampering_is_located(
    record: dict[str, Any], change: Callable[[dict[str, Any]], Any], where: str
) -> None:
    refuses(tamper(record, change), where)


def test_wrong_trustee_share(record: dict[str, Any], sim: Any) -> None:
    """A share computed with another trustee's secret, or a wrong D, fails that trustee's proof."""

    def wrong_d(r: dict[str, Any]) -> None:
        sh = r["tally"]["decryptions"][2]["shares"][1]
        sh["D"] = g.base_mul(g.random_scalar()).hex()

    refuses(tamper(record, wrong_d), "tally.decryptions[2].shares[1]")

    def swapped(r: dict[str, Any]) -> None:
        d = r["tally"]["decryptions"]
        d[0]["shares"], d[1]["shares"] = d[1]["shares"], d[0]["shares"]

    refuses(tamper(record, swapped), "tally.decryptions[0].shares[0]")


def test_result_consistent_with_wrong_shares_is_still_refused(record: dict[str, Any]) -> None:
    """Shifting the result by changing S and a share together breaks the aggregate check."""

    def change(r: dict[str, Any]) -> None:
        agg = r["tally"]["aggregate"][0]
        agg["S"] = g.add(bytes.fromhex(agg["S"]), g.BASE).hex()
        r["tally"]["result"][0] += 1

    refuses(tamper(record, change), "tally.aggregate[0].S")


def test_no_revoting_refuses_second_ballot() -> None:
    rec = simulate(6, 1, seed="no-revote", revoting=False).record
    assert verify_record(rec).counted == 6
    r = copy.deepcopy(rec)
    ctx_manifest = r["manifest"]
    alias = r["board"][0]["alias"]
    from referendum_core.crypto.record import RecordBuilder

    b = RecordBuilder(ctx_manifest)
    for e in r["board"]:
        b.cast(e["alias"], e["ballot"], e["cast_at"])
    with pytest.raises(CryptoError):
        b.cast(alias, encrypt_ballot(ctx_manifest, alias, [1, 0]).ballot, r["board"][0]["cast_at"])


def test_empty_election() -> None:
    rec = simulate(0, 2, seed="empty").record
    assert rec["tally"] == {"counted": 0, "aggregate": [], "decryptions": [], "result": [0, 0]}
    assert verify_record(rec).counted == 0
    refuses(tamper(rec, lambda r: r["tally"].update(result=[0, 1])), "tally.result[1]")


def test_everyone_excluded() -> None:
    rec = simulate(3, 2, seed="all-excluded", excluded=3).record
    s = verify_record(rec)
    assert (s.counted, s.excluded_on_board) == (0, 3)


@pytest.mark.slow
def test_done_when_scenario_1000_voters(tmp_path: Path) -> None:
    """Issue 3, 'Done when': 3 trustees, 1 000 voters, re-votes, in-person exclusions, audits."""
    from referendum_core.crypto.verify_cli import main as verify_main

    sim = simulate(1000, 3, revote_share=0.15, audited=10, excluded=25, seed="done-when")
    path = tmp_path / "record.json"
    with open(path, "w", encoding="utf-8") as fp:
        write_record(sim.record, fp)
    assert verify_main([str(path), "--jobs", "2", "--quiet"]) == 0
    r = copy.deepcopy(sim.record)
    r["tally"]["result"][1] += 1
    path.write_text(json.dumps(r), encoding="utf-8")
    assert verify_main([str(path), "--jobs", "2", "--quiet"]) == 1
