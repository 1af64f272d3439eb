"""``referendum-trustee dkg …`` and ``decrypt`` for t-of-n trustees, and ``referendum-simulate``
with a threshold: files in, files out, no server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from referendum_core.crypto import dkg
from referendum_core.crypto.ballot import encrypt_ballot
from referendum_core.crypto.manifest import build_manifest
from referendum_core.crypto.record import RecordBuilder, write_record
from referendum_core.crypto.simulate import DEFAULT_QUESTION
from referendum_core.crypto.threshold import build_tally, manifest_trustees
from referendum_core.crypto.trustee_cli import main as trustee
from referendum_core.crypto.verify import verify_record_file

PASSPHRASE = "a long enough trustee passphrase"
ELECTION = "2f0c9a7e-5b3d-4c1a-9e8f-7a6b5c4d3e2f"
N, T = 3, 2


def tool(passfile: Path, *args: str) -> int:
    return trustee(["--passphrase-file", str(passfile), *args])


@pytest.fixture()
def passfile(tmp_path: Path) -> Path:
    p = tmp_path / "pass.txt"
    p.write_text(PASSPHRASE + "\n", encoding="utf-8")
    return p


def publish(transcript: Path, *messages: Path) -> None:
    assert trustee(["dkg", "publish", "--transcript", str(transcript),
                    *map(str, messages)]) == 0


def test_whole_ceremony_through_the_cli(
    tmp_path: Path, passfile: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = tmp_path
    transcript = d / "dkg.json"
    commits = []
    for i in range(1, N + 1):
        rc = tool(passfile, "dkg", "commit", "--election-id", ELECTION, "--threshold", str(T),
                  "--trustees", str(N), "--index", str(i), "--name", f"Trustee {i}",
                  "--state", str(d / f"state{i}.json"), "--out", str(d / f"commit{i}.json"),
                  "--kdf-memory-mib", "64")
        assert rc == 0
        commits.append(d / f"commit{i}.json")
    assert trustee(["dkg", "publish", "--transcript", str(transcript), "--election-id", ELECTION,
                    "--threshold", str(T), "--trustees", str(N), *map(str, commits)]) == 0
    # The state is sealed: nothing of the polynomial is readable without the passphrase.
    assert "coefficients" not in (d / "state1.json").read_text(encoding="utf-8")
    for rnd, out in (("reveal", "reveal"), ("shares", "shares"), ("check", "complaints"),
                     ("answer", "answers")):
        files = []
        for i in range(1, N + 1):
            extra = [] if rnd == "reveal" else ["--transcript", str(transcript)]
            rc = tool(passfile, "dkg", rnd, "--state", str(d / f"state{i}.json"), *extra,
                      "--out", str(d / f"{out}{i}.json"))
            assert rc == 0, capsys.readouterr().err
            files.append(d / f"{out}{i}.json")
        publish(transcript, *files)
    capsys.readouterr()
    assert trustee(["dkg", "status", "--transcript", str(transcript)]) == 0
    status = capsys.readouterr().out
    assert "qualified so far: [1, 2, 3] (enough for t = 2)" in status
    assert "      2  yes         yes         yes         yes         yes" in status
    for i in range(1, N + 1):
        rc = tool(passfile, "dkg", "finalize", "--state", str(d / f"state{i}.json"),
                  "--transcript", str(transcript), "--out", str(d / f"secret{i}.json"),
                  "--kdf-memory-mib", "64")
        assert rc == 0
    summary = json.loads(capsys.readouterr().out.split("\n}\n")[0] + "\n}")
    assert summary["qualified"] == [1, 2, 3]

    # The portal builds the manifest and the record; trustees 1 and 3 decrypt it.
    tr = json.loads(transcript.read_text(encoding="utf-8"))
    members, th, y = manifest_trustees(tr, dkg.evaluate(tr))
    manifest = build_manifest(election_id=ELECTION, municipality="0001000",
                              question=DEFAULT_QUESTION, opens_at="2026-03-01T07:00:00Z",
                              closes_at="2026-03-14T18:00:00Z", revoting=True,
                              trustees=members, threshold=(th, y))
    builder = RecordBuilder(manifest)
    for n, sel in enumerate(([1, 0], [0, 1], [1, 0])):
        enc = encrypt_ballot(builder.context, f"voter-{n}", sel)
        builder.cast(f"voter-{n}", enc.ballot, "2026-03-02T10:00:00Z")
    record = builder.record(with_tally=False)
    record["dkg"] = tr
    path = d / "record.json"
    with path.open("w", encoding="utf-8") as fp:
        write_record(record, fp)
    partials = {}
    for i in (1, 3):
        rc = tool(passfile, "decrypt", "--secret", str(d / f"secret{i}.json"), "--tally",
                  str(path), "--out", str(d / f"partial{i}.json"))
        assert rc == 0, capsys.readouterr().err
        p = json.loads((d / f"partial{i}.json").read_text(encoding="utf-8"))
        assert p["trustee"] == i
        partials[i] = p["shares"]
    ctx = builder.context
    assert ctx.threshold is not None
    record["tally"] = build_tally(ctx.election_hash, ctx.threshold, builder.aggregate(), 3, 2,
                                  partials)
    with path.open("w", encoding="utf-8") as fp:
        write_record(record, fp)
    summary_v = verify_record_file(str(path))
    assert summary_v.result == {"yes": 2, "no": 1}
    assert summary_v.threshold.decrypted_by == [1, 3]


def test_commit_refuses_a_short_passphrase_and_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    short = tmp_path / "short.txt"
    short.write_text("short\n", encoding="utf-8")
    args = ["dkg", "commit", "--election-id", ELECTION, "--threshold", "2", "--trustees", "3",
            "--index", "1", "--name", "T1", "--state", str(tmp_path / "s.json"), "--out",
            str(tmp_path / "c.json"), "--kdf-memory-mib", "64"]
    assert tool(short, *args) == 2
    assert "at least 12 characters" in capsys.readouterr().err
    long_ = tmp_path / "long.txt"
    long_.write_text(PASSPHRASE, encoding="utf-8")
    assert tool(long_, *args) == 0
    assert tool(long_, *args) == 2
    assert "refusing to overwrite" in capsys.readouterr().err


def test_bad_threshold_is_refused(tmp_path: Path, passfile: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    rc = tool(passfile, "dkg", "commit", "--election-id", ELECTION, "--threshold", "4",
              "--trustees", "3", "--index", "1", "--name", "T1", "--state",
              str(tmp_path / "s.json"), "--out", str(tmp_path / "c.json"))
    assert rc == 1
    assert "1 ≤ t ≤ n" in capsys.readouterr().err


def simulate_cmd(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "referendum_core.crypto.simulate", *args],
        capture_output=True, text=True, timeout=120,
    )


def verify_cmd(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "referendum_core.crypto.verify_cli", str(path)],
        capture_output=True, text=True, timeout=120,
    )


def test_simulate_threshold_with_cheater_and_absentee(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    run = simulate_cmd("--voters", "10", "--trustees", "5", "--threshold", "3",
                       "--cheat-share", "2", "--absent", "4", "--seed", "cli", "--out", str(out))
    assert run.returncode == 0, run.stderr
    v = verify_cmd(out)
    assert v.returncode == 0, v.stdout + v.stderr
    assert "threshold            3 of 5; qualified trustees [1, 3, 4, 5]" in v.stdout
    assert "trustee 2 disqualified: the share it revealed for trustee 3 is wrong" in v.stdout
    assert "decrypted by         trustees [1, 3, 5]" in v.stdout
    assert "did not decrypt:   trustees [4]" in v.stdout


def test_simulate_too_few_left_fails_clearly(tmp_path: Path) -> None:
    run = simulate_cmd("--voters", "3", "--trustees", "3", "--threshold", "3",
                       "--cheat-share", "1", "--out", str(tmp_path / "r.json"))
    assert run.returncode == 1
    assert "only 2 trustees are qualified" in run.stderr
    run = simulate_cmd("--voters", "3", "--trustees", "5", "--threshold", "3", "--absent", "1",
                       "--absent", "2", "--absent", "3", "--out", str(tmp_path / "r.json"))
    assert run.returncode == 1
    assert "threshold is 3: no result" in run.stderr


