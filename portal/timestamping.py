"""RFC 3161 time-stamps of checkpoints (optional: ``CHECKPOINT_TSA_URL``).

A time-stamping authority (TSA) signs "this SHA-256 digest existed at this time" with its own
key; a stamp on a checkpoint's signed message is a copy of it held by a third party, with a
time the portal cannot move. The request and response are DER (``asn1crypto.tsp``). The answer
is checked before it is kept: granted, for our digest and nonce, and signed (CMS SignedData)
by the certificate it carries, over the signed attributes whose message digest is that of the
TSTInfo. Whether that certificate belongs to a TSA one trusts is the reader's check (against
the TSA's published certificate), not done here.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

import requests
from asn1crypto import algos, cms, tsp
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import load_der_x509_certificate

CONTENT_TYPE = "application/timestamp-query"
_HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}


class TimestampError(RuntimeError):
    """The TSA did not answer, refused, or answered with a stamp that does not check."""


def build_request(message: bytes, nonce: int) -> bytes:
    """A DER ``TimeStampReq`` for SHA-256 of ``message``, asking for the TSA's certificate."""
    return tsp.TimeStampReq({
        "version": "v1",
        "message_imprint": {"hash_algorithm": {"algorithm": "sha256"},
                            "hashed_message": hashlib.sha256(message).digest()},
        "nonce": nonce,
        "cert_req": True,
    }).dump()


def check_response(der: bytes, message: bytes, nonce: int | None) -> bytes:
    """The time-stamp token (DER ContentInfo) of a TSA's answer, once checked.

    Raises:
        TimestampError: not granted, not for this digest or nonce, or the signature fails.
    """
    try:
        response = tsp.TimeStampResp.load(der)
        status = response["status"]["status"].native
        if status not in ("granted", "granted_with_mods"):
            raise TimestampError(f"the time-stamping service refused: {status}")
        token = response["time_stamp_token"]
        signed = token["content"]
        info = signed["encap_content_info"]["content"].parsed
        imprint = info["message_imprint"]
        if imprint["hash_algorithm"]["algorithm"].native != "sha256" or \
                imprint["hashed_message"].native != hashlib.sha256(message).digest():
            raise TimestampError("the stamp is for another digest")
        if nonce is not None and not hmac.compare_digest(str(info["nonce"].native), str(nonce)):
            raise TimestampError("the stamp answers another request (nonce)")
        _check_signature(signed)
        return token.dump()
    except (ValueError, TypeError, KeyError) as exc:
        raise TimestampError(f"not a time-stamp response: {exc}") from None


def _check_signature(signed: cms.SignedData) -> None:
    [signer] = list(signed["signer_infos"])
    certificates = [c.chosen for c in signed["certificates"] or []]
    if not certificates:
        raise TimestampError("the stamp carries no certificate")
    content = signed["encap_content_info"]["content"].contents
    digest_name = signer["digest_algorithm"]["algorithm"].native
    if digest_name not in _HASHES:
        raise TimestampError(f"unsupported digest {digest_name}")
    attrs = {a["type"].native: a["values"][0].native for a in signer["signed_attrs"]}
    if attrs.get("message_digest") != hashlib.new(digest_name, content).digest():
        raise TimestampError("the signed attributes do not cover the stamp's content")
    data = signer["signed_attrs"].untag().dump()  # signed as a SET OF, not as [0]
    signature = signer["signature"].native
    algorithm: algos.SignedDigestAlgorithm = signer["signature_algorithm"]
    for certificate in certificates:
        public = load_der_x509_certificate(certificate.dump()).public_key()
        try:
            if isinstance(public, rsa.RSAPublicKey):
                public.verify(signature, data, padding.PKCS1v15(), _HASHES[digest_name]())
            elif isinstance(public, ec.EllipticCurvePublicKey):
                public.verify(signature, data, ec.ECDSA(_HASHES[digest_name]()))
            else:
                continue
        except InvalidSignature:
            continue
        return
    raise TimestampError(f"the stamp's signature ({algorithm.signature_algo}) does not verify")


def request_timestamp(url: str, message: bytes, *, timeout: float = 10.0) -> bytes:
    """Ask the TSA at ``url`` to stamp SHA-256 of ``message``; the checked token (DER).

    Raises:
        TimestampError: no answer, refused, or a stamp that does not check.
    """
    nonce = secrets.randbits(63)
    try:
        answer = requests.post(url, data=build_request(message, nonce), timeout=timeout,
                               headers={"Content-Type": CONTENT_TYPE})
    except requests.RequestException as exc:
        raise TimestampError(f"the time-stamping service did not answer: {exc}") from None
    if answer.status_code != 200:
        raise TimestampError(f"the time-stamping service answered {answer.status_code}")
    return check_response(answer.content, message, nonce)
