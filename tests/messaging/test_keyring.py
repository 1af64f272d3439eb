"""Thread data keys not cached yet: opening one runs gpg once (decrypt), not twice — the secret
keyring is listed only until the archive key has opened a data key in this process, and again
after a copy under it failed to open."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from messaging import services
from messaging.exceptions import KeyNotFound
from messaging.keyring import ThreadKeys
from messaging.models import ThreadKey
from messaging.rules import Target, TargetKind


class _CountingPGP:
    """The real PGP, counting the gpg runs ``ThreadKeys`` asks for."""

    def __init__(self, pgp):
        self._pgp = pgp
        self.calls: list[str] = []

    def __getattr__(self, name):
        return getattr(self._pgp, name)

    def has_secret_key(self, fingerprint):
        self.calls.append("list secret keys")
        return self._pgp.has_secret_key(fingerprint)

    def unwrap_key(self, wrapped, expected_length=32):
        self.calls.append("decrypt")
        return self._pgp.unwrap_key(wrapped, expected_length)


def test_cold_keys_cost_one_gpg_run_each(app, db_session, clock, people):
    member = people.member()
    writer = app.extensions["messaging_keys"]
    threads = [services.create_thread(db_session, clock, member, subject=f"S{n}", text="Sveiki",
                                      targets=[Target(TargetKind.CVK)], keys=writer)
               for n in range(3)]
    db_session.flush()
    pgp = _CountingPGP(writer.pgp)
    keys = ThreadKeys(pgp)  # a fresh process: nothing cached
    opened = [keys.key_for(db_session, t.id) for t in threads]
    assert opened == [writer.key_for(db_session, t.id) for t in threads]
    assert pgp.calls == ["list secret keys", "decrypt", "decrypt", "decrypt"]
    assert services.subject_of(db_session, threads[2], keys=keys) == "S2"


def test_a_copy_that_does_not_open_is_not_trusted_again(app, db_session, clock, people):
    member = people.member()
    writer = app.extensions["messaging_keys"]
    good, broken, later = [services.create_thread(
        db_session, clock, member, subject=f"S{n}", text="Sveiki",
        targets=[Target(TargetKind.CVK)], keys=writer) for n in range(3)]
    db_session.flush()
    row = db_session.scalars(select(ThreadKey).where(ThreadKey.thread_id == broken.id)).one()
    row.wrapped = writer.pgp.encrypt(b"not a data key", [row.fingerprint])
    pgp = _CountingPGP(writer.pgp)
    keys = ThreadKeys(pgp)
    keys.key_for(db_session, good.id)
    with pytest.raises(KeyNotFound):
        keys.key_for(db_session, broken.id)
    assert keys.key_for(db_session, later.id) == writer.key_for(db_session, later.id)
    assert pgp.calls == ["list secret keys", "decrypt", "decrypt", "list secret keys", "decrypt"]
