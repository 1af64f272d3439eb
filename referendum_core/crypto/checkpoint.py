"""Signed checkpoints of an append-only hash chain (``docs/spec/checkpoints.md``).

A checkpoint says "log ``log`` had ``seq`` entries and its head was ``head`` at ``at``", signed
with Ed25519 by a key the database does not hold. Whoever keeps a copy can later prove that the
published log passes through that point; two validly signed checkpoints that cannot both be
true (same ``seq``, different heads; or a later one with fewer entries) prove misbehaviour by
whoever holds the key. One format serves the audit log (``log = "audit"``) and each
referendum's bulletin board (``log = "board:<election_id>"``).

The signed bytes are ``"referendum-checkpoint/1\\n"`` followed by the canonical JSON of
``{"at", "head", "log", "seq"}`` (keys sorted, no spaces, ASCII): every field is restricted so
that this text is unique (see the spec).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .exceptions import CryptoError

DOMAIN = b"referendum-checkpoint/1\n"
KEY_DOMAIN = b"referendum-checkpoint-key/1\n"
AUDIT_LOG = "audit"
CHECKPOINT_KEYS = frozenset({"log", "seq", "head", "at", "key", "signature"})
MAX_SEQ = 2**63 - 1

_LOG = re.compile(r"[a-z0-9][a-z0-9:._-]{0,119}")
_HEX32 = re.compile(r"[0-9a-f]{64}")
_HEX64 = re.compile(r"[0-9a-f]{128}")
_AT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


class InvalidCheckpoint(CryptoError):
    """A checkpoint is malformed, or its signature or key is not the expected one."""


def board_log(election_id: str) -> str:
    """The log name of a referendum's bulletin board."""
    return f"board:{election_id}"


def format_at(when: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ``: UTC, whole seconds (the only form a checkpoint's time takes)."""
    return when.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def signed_message(log: str, seq: int, head: str, at: str) -> bytes:
    """The exact bytes an Ed25519 signature of a checkpoint covers.

    Raises:
        InvalidCheckpoint: a field is outside its defined form.
    """
    _check_fields(log, seq, head, at)
    body = json.dumps({"at": at, "head": head, "log": log, "seq": seq}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=True)
    return DOMAIN + body.encode("ascii")


def _check_fields(log: Any, seq: Any, head: Any, at: Any) -> None:
    if not isinstance(log, str) or not _LOG.fullmatch(log):
        raise InvalidCheckpoint("log must be 1-120 characters a-z 0-9 : . _ -", "log")
    if type(seq) is not int or not 0 <= seq <= MAX_SEQ:
        raise InvalidCheckpoint("seq must be an integer 0 … 2^63-1", "seq")
    if not isinstance(head, str) or not _HEX32.fullmatch(head):
        raise InvalidCheckpoint("head must be 64 lowercase hex digits", "head")
    if not isinstance(at, str) or not _AT.fullmatch(at):
        raise InvalidCheckpoint("at must be YYYY-MM-DDTHH:MM:SSZ", "at")
    try:
        datetime.strptime(at, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise InvalidCheckpoint("at is not a real UTC time", "at") from None


@dataclass(frozen=True, order=True)
class Checkpoint:
    """One signed checkpoint, as published (every field a JSON string or integer)."""

    log: str
    seq: int
    head: str
    at: str
    key: str  # the signer's Ed25519 public key, 64 hex digits
    signature: str  # Ed25519 signature of ``signed_message``, 128 hex digits

    def message(self) -> bytes:
        """The bytes the signature covers."""
        return signed_message(self.log, self.seq, self.head, self.at)

    def to_json(self) -> dict[str, Any]:
        """The published form (key order as in the spec)."""
        return {"log": self.log, "seq": self.seq, "head": self.head, "at": self.at,
                "key": self.key, "signature": self.signature}

    def line(self) -> str:
        """One line of a JSON-lines checkpoint file."""
        return json.dumps(self.to_json(), separators=(",", ":"))


def parse_checkpoint(obj: Any) -> Checkpoint:
    """A checkpoint from its JSON form, every field checked (the signature is not).

    Raises:
        InvalidCheckpoint: not an object with exactly the six fields in their forms.
    """
    if not isinstance(obj, dict) or set(obj) != CHECKPOINT_KEYS:
        raise InvalidCheckpoint("a checkpoint has exactly log, seq, head, at, key, signature")
    _check_fields(obj["log"], obj["seq"], obj["head"], obj["at"])
    if not isinstance(obj["key"], str) or not _HEX32.fullmatch(obj["key"]):
        raise InvalidCheckpoint("key must be 64 lowercase hex digits", "key")
    if not isinstance(obj["signature"], str) or not _HEX64.fullmatch(obj["signature"]):
        raise InvalidCheckpoint("signature must be 128 lowercase hex digits", "signature")
    return Checkpoint(obj["log"], obj["seq"], obj["head"], obj["at"], obj["key"],
                      obj["signature"])


def verify_checkpoint(checkpoint: Checkpoint, public_key: str) -> None:
    """Check that ``checkpoint`` is signed by ``public_key`` (hex).

    Raises:
        InvalidCheckpoint: another key, or the signature does not verify.
    """
    if checkpoint.key != public_key:
        raise InvalidCheckpoint("signed by another key than the published one", "key")
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key)).verify(
            bytes.fromhex(checkpoint.signature), checkpoint.message())
    except (InvalidSignature, ValueError):
        raise InvalidCheckpoint("the signature does not verify", "signature") from None


def check_public_key(value: Any, location: str = "") -> str:
    """``value`` if it is an Ed25519 public key in hex.

    Raises:
        InvalidCheckpoint: not 64 lowercase hex digits of a valid key.
    """
    if not isinstance(value, str) or not _HEX32.fullmatch(value):
        raise InvalidCheckpoint("must be 64 lowercase hex digits", location)
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(value))
    except ValueError:
        raise InvalidCheckpoint("not an Ed25519 public key", location) from None
    return value


class CheckpointSigner:
    """The signing key of one log, derived from the portal's master key (see ``derive``)."""

    def __init__(self, private_key: Ed25519PrivateKey, log: str) -> None:
        self._key = private_key
        self.log = log
        self.public_key = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()

    @classmethod
    def derive(cls, master: bytes, log: str) -> CheckpointSigner:
        """The key of ``log``: its seed is HKDF-SHA256 of the master key's 32 bytes with info
        ``"referendum-checkpoint-key/1\\n" ‖ log``. One master key file, a distinct key per
        log (an election's key, in its manifest, signs nothing of another election)."""
        _check_fields(log, 0, "0" * 64, "2000-01-01T00:00:00Z")
        seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                    info=KEY_DOMAIN + log.encode("ascii")).derive(master)
        return cls(Ed25519PrivateKey.from_private_bytes(seed), log)

    def sign(self, seq: int, head: str, at: datetime | str) -> Checkpoint:
        """The signed checkpoint of this log at ``seq`` with ``head``."""
        at_text = at if isinstance(at, str) else format_at(at)
        signature = self._key.sign(signed_message(self.log, seq, head, at_text))
        return Checkpoint(self.log, seq, head, at_text, self.public_key, signature.hex())


def load_master_key(path: str | Path, *, create: bool) -> bytes:
    """The 32 secret bytes of the Ed25519 master key in ``path`` (PKCS#8 PEM, as ``openssl
    genpkey -algorithm ed25519`` writes); with ``create``, made (mode 0600) when missing.

    Raises:
        FileNotFoundError: missing and not ``create``; ValueError: not an Ed25519 PEM key.
    """
    file = Path(path)
    if not file.exists() and create:
        file.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())
        file.touch(mode=0o600, exist_ok=False)
        file.write_bytes(pem)
    key = serialization.load_pem_private_key(file.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{file} is not an Ed25519 private key")
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())


# --------------------------------------------------------------------------- consistency


@dataclass(frozen=True)
class Contradiction:
    """Two validly signed checkpoints of one log that cannot both be true."""

    first: Checkpoint
    second: Checkpoint
    reason: str

    def render(self) -> str:
        """A proof anyone can re-check: both checkpoints in full and why they conflict."""
        return (f"PROOF OF MISBEHAVIOUR ({self.first.log}): {self.reason}\n"
                f"  {self.first.line()}\n  {self.second.line()}")


def contradictions(checkpoints: Iterable[Checkpoint]) -> list[Contradiction]:
    """Pairs of checkpoints of the same log that contradict each other: the same ``seq``
    with different heads, or one signed later than another yet with fewer entries (an
    append-only log never shrinks). Signatures must have been checked by the caller."""
    found: list[Contradiction] = []
    by_log: dict[str, list[Checkpoint]] = {}
    for cp in checkpoints:
        by_log.setdefault(cp.log, []).append(cp)
    for cps in by_log.values():
        by_seq: dict[int, Checkpoint] = {}
        for cp in sorted(cps, key=lambda c: (c.seq, c.at, c.head)):
            other = by_seq.setdefault(cp.seq, cp)
            if other.head != cp.head:
                found.append(Contradiction(other, cp, f"two different heads at seq {cp.seq}"))
        ordered = sorted(cps, key=lambda c: (c.at, c.seq))
        latest_max: Checkpoint | None = None
        for cp in ordered:
            if latest_max is not None and cp.at > latest_max.at and cp.seq < latest_max.seq:
                found.append(Contradiction(latest_max, cp, "the later checkpoint has fewer "
                                                           "entries: the log was cut back"))
            if latest_max is None or cp.seq > latest_max.seq:
                latest_max = cp
    return found


def expected_heads(checkpoints: Iterable[Checkpoint]) -> Mapping[int, str]:
    """``{seq: head}`` the log must pass through (the first checkpoint at each seq)."""
    heads: dict[int, str] = {}
    for cp in checkpoints:
        heads.setdefault(cp.seq, cp.head)
    return heads


def read_checkpoints(text: str) -> list[Any]:
    """The raw checkpoints of a file: a JSON array, an object with a ``checkpoints`` array,
    or JSON lines (blank lines skipped).

    Raises:
        InvalidCheckpoint: not one of those forms.
    """
    stripped = text.strip()
    if not stripped:
        return []
    # A file nested thousands deep makes the parser recurse until ``RecursionError``, which is
    # no ``ValueError``: it is as much "not JSON" as any other broken file.
    try:
        whole = json.loads(stripped)
    except (ValueError, RecursionError):
        whole = None
    if isinstance(whole, list):
        return whole
    if isinstance(whole, dict):
        if "checkpoints" in whole and isinstance(whole["checkpoints"], list):
            return whole["checkpoints"]
        return [whole]
    items = []
    for n, line in enumerate(stripped.splitlines(), 1):
        if not line.strip():
            continue
        try:
            items.append(json.loads(line))
        except (ValueError, RecursionError):
            raise InvalidCheckpoint("not JSON", f"line {n}") from None
    return items
