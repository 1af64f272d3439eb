"""RFC 3161 time-stamps of checkpoints, against a small time-stamping authority started here
(its own key and self-signed certificate, answering over HTTP on a free local port)."""
from __future__ import annotations

import base64
import hashlib
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import cms, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from portal import checkpoints as portal_checkpoints
from portal.timestamping import (
    TimestampError,
    build_request,
    check_response,
    request_timestamp,
)
from referendum_core.crypto.checkpoint import CheckpointSigner


class LocalTSA:
    """Answers TimeStampReq with a TimeStampResp signed by its own EC key."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA")])
        now = datetime.now(UTC)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(self.key.public_key()).serial_number(7)
                .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]),
                               critical=True)
                .sign(self.key, hashes.SHA256()))
        self.cert = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
        self.serial = 0
        self.tamper: str | None = None

    def respond(self, request_der: bytes) -> bytes:
        request = tsp.TimeStampReq.load(request_der)
        if self.tamper == "refuse":
            return tsp.TimeStampResp({"status": {"status": "rejection"}}).dump()
        self.serial += 1
        imprint = request["message_imprint"]
        if self.tamper == "digest":
            imprint = {"hash_algorithm": {"algorithm": "sha256"},
                       "hashed_message": hashlib.sha256(b"other").digest()}
        info = tsp.TSTInfo({"version": "v1", "policy": "1.3.6.1.4.1.99999.1",
                            "message_imprint": imprint, "serial_number": self.serial,
                            "gen_time": datetime.now(UTC).replace(microsecond=0),
                            "nonce": request["nonce"].native})
        content = info.dump()
        attrs = cms.CMSAttributes([
            {"type": "content_type", "values": ["tst_info"]},
            {"type": "message_digest", "values": [hashlib.sha256(content).digest()]},
        ])
        signature = self.key.sign(attrs.dump(), ec.ECDSA(hashes.SHA256()))
        if self.tamper == "signature":
            signature = self.key.sign(b"something else", ec.ECDSA(hashes.SHA256()))
        signer = cms.SignerInfo({
            "version": "v1",
            "sid": {"issuer_and_serial_number": {"issuer": self.cert.issuer,
                                                 "serial_number": self.cert.serial_number}},
            "digest_algorithm": {"algorithm": "sha256"}, "signed_attrs": attrs,
            "signature_algorithm": {"algorithm": "sha256_ecdsa"}, "signature": signature})
        signed = cms.SignedData({
            "version": "v3", "digest_algorithms": [{"algorithm": "sha256"}],
            "encap_content_info": {"content_type": "tst_info",
                                   "content": cms.ParsableOctetString(content)},
            "certificates": [self.cert], "signer_infos": [signer]})
        return tsp.TimeStampResp({
            "status": {"status": "granted"},
            "time_stamp_token": {"content_type": "signed_data", "content": signed}}).dump()


@pytest.fixture()
def tsa() -> Any:
    authority = LocalTSA()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the standard library's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            answer = authority.respond(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    authority.url = f"http://127.0.0.1:{server.server_address[1]}/tsa"
    yield authority
    server.shutdown()
    server.server_close()
    thread.join()


MESSAGE = CheckpointSigner.derive(bytes(32), "audit").sign(
    3, "ab" * 32, "2026-12-07T08:00:00Z").message()


def test_a_stamp_is_checked_and_covers_the_checkpoint(tsa):
    token = request_timestamp(tsa.url, MESSAGE)
    info = cms.ContentInfo.load(token)["content"]["encap_content_info"]["content"].parsed
    assert info["message_imprint"]["hashed_message"].native == hashlib.sha256(MESSAGE).digest()


@pytest.mark.parametrize("tamper", ["refuse", "digest", "signature"])
def test_a_refused_or_wrong_stamp_is_not_kept(tsa, tamper):
    tsa.tamper = tamper
    with pytest.raises(TimestampError):
        request_timestamp(tsa.url, MESSAGE)


def test_a_stamp_for_another_request_is_refused(tsa):
    answer = tsa.respond(build_request(MESSAGE, 5))
    assert check_response(answer, MESSAGE, 5)
    with pytest.raises(TimestampError, match="nonce"):
        check_response(answer, MESSAGE, 6)
    with pytest.raises(TimestampError):
        check_response(b"not der", MESSAGE, 5)


def test_checkpoints_are_stamped_when_configured(app, tsa):
    app.config["CHECKPOINT_TSA_URL"] = tsa.url
    with app.app_context():
        portal_checkpoints.sign_audit.delay()
    path = Path(app.config["CHECKPOINT_LOG_FILE"])
    [stamp_line] = Path(str(path) + ".tsr").read_text().splitlines()
    token_b64, signature = stamp_line.split(" ")
    assert signature in path.read_text()
    info = cms.ContentInfo.load(base64.b64decode(token_b64))["content"][
        "encap_content_info"]["content"].parsed
    assert info["serial_number"].native == 1


def test_an_unreachable_tsa_does_not_stop_the_other_copies(app, caplog):
    app.config["CHECKPOINT_TSA_URL"] = "http://127.0.0.1:9/tsa"
    app.config["CHECKPOINT_TSA_TIMEOUT"] = 2
    with app.app_context():
        portal_checkpoints.sign_audit.delay()
    assert Path(app.config["CHECKPOINT_LOG_FILE"]).read_text().count("\n") == 1
    assert "did not stamp" in caplog.text
