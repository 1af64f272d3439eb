"""``referendum-trustee dkg …``: a trustee's rounds of the distributed key generation, offline.

Each round reads the trustee's sealed state and the transcript published so far (downloaded from
the portal's trustee page) and writes the message to upload::

    referendum-trustee dkg commit   --election-id ID --threshold T --trustees N --index I \\
                                    --name NAME --state state.json --out commit.json
    referendum-trustee dkg reveal   --state state.json --out reveal.json
    referendum-trustee dkg shares   --state state.json --transcript key-generation-ID.json --out shares.json
    referendum-trustee dkg check    --state state.json --transcript key-generation-ID.json --out complaints.json
    referendum-trustee dkg answer   --state state.json --transcript key-generation-ID.json --out answers.json
    referendum-trustee dkg finalize --state state.json --transcript key-generation-ID.json --out trustee-ID.json

``finalize`` writes the trustee's secret key file, which ``referendum-trustee decrypt`` opens.
``dkg publish --transcript key-generation-ID.json MESSAGE…`` appends messages to a transcript, checking each as
the portal does (``--election-id/--threshold/--trustees`` start a new one); ``dkg status
--transcript key-generation-ID.json`` shows who has done what and, once the checks are in, who is qualified.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from . import dkg
from .jsonstream import loads
from .secretfile import DEFAULT_KDF, dumps_sealed, open_blob, seal_blob, seal_secret

STATE_FORMAT = "referendum-dkg-state/1"
ROUND_COMMANDS = (
    "commit", "reveal", "shares", "check", "answer", "finalize", "publish", "status"
)

Passphrase = Callable[[argparse.Namespace, bool], str]


class DkgUsageError(Exception):
    """A problem with the command line or the input files."""


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``dkg`` and its rounds under the trustee tool's subcommands."""
    p = sub.add_parser("dkg", help="the rounds of the distributed key generation")
    rounds = p.add_subparsers(dest="round", required=True)
    c = rounds.add_parser("commit", help="round 1: draw the polynomial, write the commitment")
    c.add_argument("--election-id", required=True)
    c.add_argument("--threshold", type=int, required=True, help="t")
    c.add_argument("--trustees", type=int, required=True, help="n")
    c.add_argument("--index", type=int, required=True, help="this trustee's number, 1 … n")
    c.add_argument("--name", required=True)
    c.add_argument("--state", required=True, help="state file to create (keep it secret)")
    c.add_argument("--kdf-memory-mib", type=int, default=DEFAULT_KDF["memory_cost_kib"] // 1024)
    c.add_argument("--out", required=True)
    for name, what in (
        ("reveal", "round 2: the coefficients' commitments, proofs and transport key"),
        ("shares", "round 3: the sealed shares for the other trustees"),
        ("check", "round 4: check the shares received, write the complaints (maybe none)"),
        ("answer", "round 5: reveal the shares complained of"),
        ("finalize", "after the deadline: write this trustee's secret key file"),
    ):
        r = rounds.add_parser(name, help=what)
        r.add_argument("--state", required=True)
        if name != "reveal":
            r.add_argument("--transcript", required=True, help="the transcript published so far")
        r.add_argument("--out", required=True)
        if name == "finalize":
            r.add_argument(
                "--kdf-memory-mib", type=int, default=DEFAULT_KDF["memory_cost_kib"] // 1024
            )
    pub = rounds.add_parser("publish", help="append messages to a transcript (the portal's part)")
    pub.add_argument("--transcript", required=True)
    pub.add_argument("--election-id")
    pub.add_argument("--threshold", type=int)
    pub.add_argument("--trustees", type=int)
    pub.add_argument("messages", nargs="+")
    st = rounds.add_parser("status", help="who has done what; who is qualified so far")
    st.add_argument("--transcript", required=True)
    for r in rounds.choices.values():
        r.add_argument("--passphrase-file", help=argparse.SUPPRESS, default=argparse.SUPPRESS)
    return p


def _read_json(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as fp:
            return loads(fp.read())
    except ValueError as exc:
        raise DkgUsageError(f"{path} is not valid JSON: {exc}") from None


def _write_json(path: str, obj: Any) -> None:
    with open(path, "w", encoding="utf-8") as fp:
        json.dump(obj, fp, indent=1, ensure_ascii=False)
        fp.write("\n")


def _create_secret_file(path: str, text: str) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise DkgUsageError(f"{path} exists; refusing to overwrite a secret") from None
    with os.fdopen(fd, "w", encoding="utf-8") as fp:
        fp.write(text)


def _kdf(args: argparse.Namespace) -> dict[str, Any]:
    return dict(DEFAULT_KDF, memory_cost_kib=args.kdf_memory_mib * 1024)


def _load_state(args: argparse.Namespace, passphrase: Passphrase) -> dkg.DealerState:
    _header, payload = open_blob(_read_json(args.state), passphrase(args, False), STATE_FORMAT)
    return dkg.DealerState.from_json(json.loads(payload))


def run(args: argparse.Namespace, passphrase: Passphrase) -> int:
    """Run one ``dkg`` round.

    Raises:
        DkgUsageError, CryptoError, SecretFileError, OSError: the trustee tool reports them.
    """
    if args.round == "publish":
        return _publish(args)
    if args.round == "status":
        return _status(args)
    if args.round == "commit":
        pw = passphrase(args, True)
        if len(pw) < 12:
            raise DkgUsageError("use a passphrase of at least 12 characters")
        params = dkg.Params(args.election_id, args.threshold, args.trustees)
        state, message = dkg.commit(params, args.index, args.name)
        header = {"election_id": params.election_id, "index": args.index, "name": args.name}
        sealed = seal_blob(
            STATE_FORMAT, header, json.dumps(state.to_json()).encode(), pw, _kdf(args)
        )
        _create_secret_file(args.state, dumps_sealed(sealed))
        _write_json(args.out, message)
        _say(f"State written to {args.state} (keep it and the passphrase); upload {args.out}.")
        return 0
    state = _load_state(args, passphrase)
    if args.round == "reveal":
        _write_json(args.out, dkg.reveal(state))
        _say(f"Upload {args.out}.")
        return 0
    transcript = _read_json(args.transcript)
    if args.round == "shares":
        _write_json(args.out, dkg.deal_shares(state, transcript))
        _say(f"Sealed shares written to {args.out}; upload it.")
    elif args.round == "check":
        message = dkg.check_shares(state, transcript)
        _write_json(args.out, message)
        against = message["against"]
        _say(
            f"Complaints against trustees {against}" if against else "All shares are correct."
        )
        _say(f"Upload {args.out}.")
    elif args.round == "answer":
        message = dkg.answer_complaints(state, transcript)
        _write_json(args.out, message)
        _say(f"{len(message['answers'])} complaint(s) answered; upload {args.out}.")
    else:
        secret, outcome = dkg.finalize(state, transcript)
        _create_secret_file(
            args.out, dumps_sealed(seal_secret(secret, passphrase(args, False), _kdf(args)))
        )
        for i, why in sorted(outcome.disqualified.items()):
            _say(f"Trustee {i} disqualified: {why}")
        print(
            json.dumps(
                {
                    "qualified": outcome.qualified,
                    "public_key": outcome.public_key.hex(),
                    "verification_key": secret.public_key.hex(),
                },
                indent=1,
            )
        )
        _say(f"Secret key written to {args.out}; the state file is no longer needed.")
    return 0


def _publish(args: argparse.Namespace) -> int:
    if os.path.exists(args.transcript):
        transcript = _read_json(args.transcript)
    elif args.election_id and args.threshold and args.trustees:
        transcript = dkg.empty_transcript(
            dkg.Params(args.election_id, args.threshold, args.trustees)
        )
    else:
        raise DkgUsageError("a new transcript needs --election-id, --threshold and --trustees")
    for path in args.messages:
        dkg.add_message(transcript, _read_json(path))
    _write_json(args.transcript, transcript)
    return 0


def _status(args: argparse.Namespace) -> int:
    transcript = _read_json(args.transcript)
    table = dkg.progress(transcript)
    print("trustee  " + "  ".join(f"{r:10}" for r in dkg.ROUNDS))
    for i, rounds in table.items():
        print(f"{i:7}  " + "  ".join(f"{'yes' if ok else '-':10}" for ok in rounds.values()))
    outcome = dkg.evaluate(transcript, final=bool(transcript["complaints"]))
    for i, why in sorted(outcome.disqualified.items()):
        print(f"trustee {i} disqualified: {why}")
    if transcript["complaints"]:
        t = outcome.params.t
        verdict = "enough" if outcome.has_quorum else "NOT enough"
        print(f"qualified so far: {outcome.qualified} ({verdict} for t = {t})")
    return 0


def _say(text: str) -> None:
    print(text, file=sys.stderr)
