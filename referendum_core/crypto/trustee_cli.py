"""``referendum-trustee``: a trustee's offline tool (no server needed).

    referendum-trustee keygen --election-id ID --name NAME --out trustee-ID.json
    referendum-trustee decrypt --secret trustee-ID.json --tally TALLY.json --out partial-ID.json
    referendum-trustee dkg commit|reveal|shares|check|answer|finalize …   (t-of-n trustees,
                                                                 see ``dkg_cli``)

The passphrase is read from ``--passphrase-file``, else ``$REFERENDUM_TRUSTEE_PASSPHRASE``, else
prompted (twice for keygen). The secret never leaves the file except in memory.

``--tally`` takes either the full election record (then the board is verified and the aggregate
recomputed before anything is decrypted — recommended: it stops a server from asking trustees to
decrypt a single voter's ballot) or a tally request ``{"election_hash", "aggregate", ["manifest"]}``.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from typing import Any

from . import dkg_cli
from .exceptions import CryptoError, SecretFileError
from .jsonstream import iter_object, loads
from .keys import generate_trustee_key
from .manifest import context_from_manifest
from .secretfile import DEFAULT_KDF, dumps_sealed, open_secret, seal_secret
from .tally import aggregate_from_json, aggregate_to_json, partial_decrypt
from .verify import STREAM_KEYS, counted_aggregate_file

ENV_PASSPHRASE = "REFERENDUM_TRUSTEE_PASSPHRASE"  # noqa: S105 - a variable name


class UsageError(Exception):
    """A problem with the command line or the input files."""


def _passphrase(args: argparse.Namespace, confirm: bool) -> str:
    if args.passphrase_file:
        with open(args.passphrase_file, encoding="utf-8") as fp:
            return fp.read().rstrip("\r\n")
    if os.environ.get(ENV_PASSPHRASE):
        return os.environ[ENV_PASSPHRASE]
    first = getpass.getpass("Passphrase: ")
    if confirm and getpass.getpass("Repeat passphrase: ") != first:
        raise UsageError("the passphrases differ")
    return first


def _keygen(args: argparse.Namespace) -> int:
    passphrase = _passphrase(args, confirm=True)
    if len(passphrase) < 12:
        raise UsageError("use a passphrase of at least 12 characters")
    secret, public = generate_trustee_key(args.election_id, args.name)
    kdf = dict(DEFAULT_KDF, memory_cost_kib=args.kdf_memory_mib * 1024)
    sealed = seal_secret(secret, passphrase, kdf)
    try:
        fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise UsageError(f"{args.out} exists; refusing to overwrite a secret") from None
    with os.fdopen(fd, "w", encoding="utf-8") as fp:
        fp.write(dumps_sealed(sealed))
    print(json.dumps(public, indent=2))
    print(
        f"Secret share written to {args.out}. Upload the JSON above; keep the file and the "
        "passphrase safe and separate.",
        file=sys.stderr,
    )
    return 0


def _is_record(path: str) -> bool:
    with open(path, encoding="utf-8") as fp:
        return any(key == "board" for key, _ in iter_object(fp, STREAM_KEYS))


def _load_tally(
    path: str, secret_election: str, public_key: bytes
) -> tuple[bytes, Any, int | None]:
    """Return (election_hash, aggregate, trustee index or None)."""
    if _is_record(path):
        ctx, agg, _counted = counted_aggregate_file(path, jobs=os.cpu_count() or 1)
        print("Record verified; the aggregate was recomputed from the board.", file=sys.stderr)
    else:
        with open(path, encoding="utf-8") as fp:
            req = loads(fp.read())
        if not isinstance(req, dict) or "aggregate" not in req or "election_hash" not in req:
            raise UsageError("tally file needs election_hash and aggregate (or pass the record)")
        ctx = None
        if "manifest" in req:
            ctx = context_from_manifest(req["manifest"])
            if req["election_hash"] != ctx.election_hash.hex():
                raise UsageError("election_hash does not match the manifest")
        n = ctx.n_choices if ctx else len(req["aggregate"])
        agg = aggregate_from_json(req["aggregate"], n)
        print(
            "WARNING: only an aggregate was given, so it cannot be checked against the board; "
            "pass the full record to --tally to check it.",
            file=sys.stderr,
        )
        if ctx is None:
            return bytes.fromhex(req["election_hash"]), agg, None
    if ctx.election_id != secret_election:
        raise UsageError("this secret belongs to another election")
    if public_key not in ctx.trustee_keys:
        raise UsageError("this secret's key is not a trustee key of the election")
    position = list(ctx.trustee_keys).index(public_key)
    # t-of-n trustees are named by their key-generation index, v1 trustees by position.
    index = ctx.threshold.indices[position] if ctx.threshold is not None else position
    return ctx.election_hash, agg, index


def _decrypt(args: argparse.Namespace) -> int:
    with open(args.secret, encoding="utf-8") as fp:
        sealed = loads(fp.read())
    secret = open_secret(sealed, _passphrase(args, confirm=False))
    eh, agg, index = _load_tally(args.tally, secret.election_id, secret.public_key)
    if not agg:
        raise UsageError("nothing to decrypt: no ballot was counted")
    partial: dict[str, Any] = {
        "election_hash": eh.hex(),
        "trustee": index,
        "name": secret.name,
        "public_key": secret.public_key.hex(),
        "aggregate": aggregate_to_json(agg),
        "shares": partial_decrypt(secret, eh, agg),
    }
    with open(args.out, "w", encoding="utf-8") as fp:
        json.dump(partial, fp, indent=2)
        fp.write("\n")
    print(f"Partial decryption written to {args.out}; upload it.", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Console entry point."""
    ap = argparse.ArgumentParser(prog="referendum-trustee", description="Election trustee tool.")
    ap.add_argument(
        "--passphrase-file",
        help=f"read the passphrase from this file (else ${ENV_PASSPHRASE} or a prompt)",
    )
    sub = ap.add_subparsers(dest="command", required=True)
    kg = sub.add_parser("keygen", help="create a secret share and print the public part")
    kg.add_argument("--election-id", required=True)
    kg.add_argument("--name", required=True)
    kg.add_argument("--out", required=True, help="secret file to create")
    kg.add_argument("--kdf-memory-mib", type=int, default=DEFAULT_KDF["memory_cost_kib"] // 1024)
    dc = sub.add_parser("decrypt", help="write the partial decryption of a tally")
    dc.add_argument("--secret", required=True)
    dc.add_argument("--tally", required=True, help="the election record, or a tally request")
    dc.add_argument("--out", required=True)
    dk = dkg_cli.add_parser(sub)
    for p in (kg, dc, dk):
        p.add_argument("--passphrase-file", help=argparse.SUPPRESS, default=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if not hasattr(args, "passphrase_file"):
        args.passphrase_file = None
    try:
        if args.command == "dkg":
            return dkg_cli.run(args, _passphrase)
        return _keygen(args) if args.command == "keygen" else _decrypt(args)
    except SecretFileError as exc:
        print(f"referendum-trustee: cannot open the secret: {exc.message}", file=sys.stderr)
        return 1
    except CryptoError as exc:
        print(f"referendum-trustee: refused: {exc}", file=sys.stderr)
        return 1
    except (UsageError, dkg_cli.DkgUsageError, OSError) as exc:
        print(f"referendum-trustee: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
