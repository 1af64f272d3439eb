"""AES-GCM sealing and the OpenPGP wrapper (key wrap, signatures, typed errors)."""
from __future__ import annotations

import pytest

from messaging import crypto
from messaging.exceptions import CryptoError, KeyNotFound, PGPError
from messaging.pgp import PGP


def test_seal_round_trip_and_binding():
    key = crypto.new_data_key()
    aad = crypto.associated_data(7, "body")
    sealed = crypto.seal_text(key, "Labdien", aad)
    assert sealed[0] == crypto.VERSION and b"Labdien" not in sealed
    assert crypto.open_text(key, sealed, aad) == "Labdien"
    with pytest.raises(CryptoError):  # moved to another thread
        crypto.open_text(key, sealed, crypto.associated_data(8, "body"))
    with pytest.raises(CryptoError):  # wrong key
        crypto.open_text(crypto.new_data_key(), sealed, aad)
    with pytest.raises(CryptoError):  # altered
        crypto.open_text(key, sealed[:-1] + bytes([sealed[-1] ^ 1]), aad)


def test_wrap_unwrap_and_signatures(gnupg_home, user_gnupg):
    pgp = PGP(gnupg_home)
    key = crypto.new_data_key()
    wrapped = pgp.wrap_key(key)
    assert "BEGIN PGP MESSAGE" in wrapped
    assert pgp.unwrap_key(wrapped) == key
    signature = pgp.sign_detached(b"arhivs")
    assert pgp.verify_detached(b"arhivs", signature) == pgp.archive_fingerprint
    with pytest.raises(PGPError):
        pgp.verify_detached(b"cits", signature)
    # Wrapped only to a participant's key: the portal cannot open it.
    _home, fpr, public = user_gnupg
    assert pgp.import_public_key(public) == fpr
    with pytest.raises(PGPError):
        pgp.unwrap_key(pgp.wrap_key(key, fpr))
    with pytest.raises(PGPError):
        pgp.import_public_key("not a key")


def test_missing_archive_key_is_a_typed_error(tmp_path):
    pgp = PGP(tmp_path / "empty")
    with pytest.raises(KeyNotFound):
        pgp.archive_fingerprint  # noqa: B018
    assert not pgp.has_archive_key()
    pgp.stop_agent()
