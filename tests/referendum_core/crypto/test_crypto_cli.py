"""The console tools through their public surface: trustee keygen/decrypt, verify, simulate."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from referendum_core.crypto.ballot import encrypt_ballot
from referendum_core.crypto.manifest import build_manifest
from referendum_core.crypto.record import RecordBuilder, write_record
from referendum_core.crypto.simulate import DEFAULT_QUESTION
from referendum_core.crypto.trustee_cli import main as trustee
from referendum_core.crypto.verify_cli import main as verify

PASSPHRASE = "a long enough trustee passphrase"
ELECTION = "7a1d7c0e-6a43-4a9e-9a4b-1b2c3d4e5f60"


def run(
    module: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", f"referendum_core.crypto.{module}", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture()
def passfile(tmp_path: Path) -> Path:
    p = tmp_path / "pass.txt"
    p.write_text(PASSPHRASE + "\n", encoding="utf-8")
    return p


def keygen(
    tmp_path: Path, passfile: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> dict[str, Any]:
    out = tmp_path / f"{name}.secret.json"
    rc = trustee(
        [
            "--passphrase-file",
            str(passfile),
            "keygen",
            "--election-id",
            ELECTION,
            "--name",
            name,
            "--out",
            str(out),
            "--kdf-memory-mib",
            "64",
        ]
    )
    assert rc == 0
    return json.loads(capsys.readouterr().out)


def test_trustee_keygen_decrypt_and_verify(
    tmp_path: Path, passfile: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    publics = [keygen(tmp_path, passfile, f"t{i}", capsys) for i in range(2)]
    secret_text = (tmp_path / "t0.secret.json").read_text()
    assert (
        "secret" not in json.loads(secret_text)
        and (tmp_path / "t0.secret.json").stat().st_mode & 0o077 == 0
    )
    manifest = build_manifest(
        election_id=ELECTION,
        municipality="0001000",
        question=DEFAULT_QUESTION,
        opens_at="2026-03-01T07:00:00Z",
        closes_at="2026-03-14T18:00:00Z",
        revoting=True,
        trustees=publics,
    )
    builder = RecordBuilder(manifest)
    for i, sel in enumerate([[1, 0], [1, 0], [0, 1]]):
        builder.cast(
            f"voter-{i}", encrypt_ballot(manifest, f"voter-{i}", sel).ballot, "2026-03-02T10:00:00Z"
        )
    pre = tmp_path / "pre-tally.json"
    with open(pre, "w", encoding="utf-8") as fp:
        write_record(builder.record(with_tally=False), fp)
    for i in range(2):
        part = tmp_path / f"partial{i}.json"
        rc = trustee(
            [
                "--passphrase-file",
                str(passfile),
                "decrypt",
                "--secret",
                str(tmp_path / f"t{i}.secret.json"),
                "--tally",
                str(pre),
                "--out",
                str(part),
            ]
        )
        assert rc == 0, capsys.readouterr().err
        partial = json.loads(part.read_text())
        assert partial["trustee"] == i
        builder.add_decryption(partial["trustee"], partial["shares"])
    final = tmp_path / "record.json"
    with open(final, "w", encoding="utf-8") as fp:
        write_record(builder.record(), fp)
    capsys.readouterr()
    assert verify([str(final), "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "VALID" in out and "yes  2" in out and "no   1" in out


def test_trustee_wrong_passphrase_and_tampered_file(
    tmp_path: Path, passfile: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keygen(tmp_path, passfile, "t", capsys)
    secret = tmp_path / "t.secret.json"
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("not the passphrase at all", encoding="utf-8")
    req = tmp_path / "req.json"
    req.write_text(json.dumps({"election_hash": "00" * 32, "aggregate": []}))
    rc = trustee(
        [
            "--passphrase-file",
            str(wrong),
            "decrypt",
            "--secret",
            str(secret),
            "--tally",
            str(req),
            "--out",
            str(tmp_path / "p.json"),
        ]
    )
    assert rc == 1
    assert "wrong passphrase" in capsys.readouterr().err
    sealed = json.loads(secret.read_text())
    sealed["name"] = "someone else"
    secret.write_text(json.dumps(sealed))
    rc = trustee(
        [
            "--passphrase-file",
            str(passfile),
            "decrypt",
            "--secret",
            str(secret),
            "--tally",
            str(req),
            "--out",
            str(tmp_path / "p.json"),
        ]
    )
    assert rc == 1
    assert not (tmp_path / "p.json").exists()


def test_keygen_refuses_overwrite_and_short_passphrase(
    tmp_path: Path, passfile: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keygen(tmp_path, passfile, "t", capsys)
    args = [
        "keygen",
        "--election-id",
        ELECTION,
        "--name",
        "t",
        "--out",
        str(tmp_path / "t.secret.json"),
    ]
    assert trustee(["--passphrase-file", str(passfile), *args]) == 2
    short = tmp_path / "short.txt"
    short.write_text("short")
    assert trustee(["--passphrase-file", str(short), *args[:-1], str(tmp_path / "n.json")]) == 2


def test_simulate_and_verify_commands(tmp_path: Path) -> None:
    rec = tmp_path / "sim.json"
    sim = run(
        "simulate",
        "--voters",
        "25",
        "--trustees",
        "3",
        "--revote-share",
        "0.2",
        "--audited",
        "2",
        "--excluded",
        "2",
        "--seed",
        "cli",
        "--out",
        str(rec),
    )
    assert sim.returncode == 0, sim.stderr
    ok = run("verify_cli", str(rec))
    assert ok.returncode == 0, ok.stdout
    for needle in ("VALID", "ballots on board     30", "counted              23", "board head"):
        assert needle in ok.stdout
    data = json.loads(rec.read_text())
    tracker = data["board"][-1]["tracker"]
    found = run("verify_cli", str(rec), "--tracker", tracker)
    assert found.returncode == 0 and "found at board[29] (counted)" in found.stdout
    assert run("verify_cli", str(rec), "--tracker", "cd" * 32).returncode == 3
    data["board"][17]["ballot"]["choices"][1]["proof"][0]["response"] = data["board"][17]["ballot"][
        "choices"
    ][0]["proof"][0]["response"]
    rec.write_text(json.dumps(data))
    bad = run("verify_cli", str(rec))
    assert bad.returncode == 1
    assert "INVALID" in bad.stdout and "board[17].ballot.choices[1].proof" in bad.stdout
    assert run("verify_cli", str(tmp_path / "missing.json")).returncode == 2
    (tmp_path / "junk.json").write_text('{"manifest": [1, 2')
    assert run("verify_cli", str(tmp_path / "junk.json")).returncode == 1
