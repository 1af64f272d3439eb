"""Thread data keys not cached yet: opening one runs gpg once (decrypt), not twice — the secret
keyring is listed only until the archive key has opened a data key in this process, and again
after a copy under it failed to open; with the servers' own key, no gpg run at all."""
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
    row = db_session.scalars(select(ThreadKey).where(ThreadKey.thread_id == broken.id,
                                                     ThreadKey.purpose == "archive")).one()
    row.wrapped = writer.pgp.encrypt(b"not a data key", [row.fingerprint])
    pgp = _CountingPGP(writer.pgp)
    keys = ThreadKeys(pgp)
    keys.key_for(db_session, good.id)
    with pytest.raises(KeyNotFound):
        keys.key_for(db_session, broken.id)
    assert keys.key_for(db_session, later.id) == writer.key_for(db_session, later.id)
    assert pgp.calls == ["list secret keys", "decrypt", "decrypt", "list secret keys", "decrypt"]


SERVER_KEY = b"k" * 32


def _threads(db_session, clock, member, keys, n=2):
    threads = [services.create_thread(db_session, clock, member, subject=f"S{i}", text="Sveiki",
                                      targets=[Target(TargetKind.CVK)], keys=keys)
               for i in range(n)]
    db_session.flush()
    return threads


def test_the_servers_own_copy_opens_a_cold_thread_without_gpg(app, db_session, clock, people):
    """The first message of a thread after a restart waited for a gpg run behind every other
    cold thread (5.8 s p99 for 100 threads in bench.delivery); the server copy takes µs."""
    writer = ThreadKeys(app.extensions["messaging_keys"].pgp, server_key=SERVER_KEY)
    threads = _threads(db_session, clock, people.member(), writer)
    purposes = set(db_session.scalars(select(ThreadKey.purpose).where(
        ThreadKey.thread_id == threads[0].id)))
    assert purposes == {"archive", "server"}
    pgp = _CountingPGP(writer.pgp)
    fresh = ThreadKeys(pgp, server_key=SERVER_KEY)  # another process: nothing cached
    assert [fresh.key_for(db_session, t.id) for t in threads] == [
        writer.key_for(db_session, t.id) for t in threads]
    fresh.forget()
    fresh.preload(db_session, [t.id for t in threads])
    assert pgp.calls == []
    assert services.subject_of(db_session, threads[1], keys=fresh) == "S1"


def test_another_server_key_falls_back_to_the_archive_copy(app, db_session, clock, people):
    writer = ThreadKeys(app.extensions["messaging_keys"].pgp, server_key=SERVER_KEY)
    [thread] = _threads(db_session, clock, people.member(), writer, n=1)
    pgp = _CountingPGP(writer.pgp)
    other = ThreadKeys(pgp, server_key=b"o" * 32)
    assert other.key_for(db_session, thread.id) == writer.key_for(db_session, thread.id)
    assert pgp.calls == ["list secret keys", "decrypt"]


def test_a_server_copy_moved_to_another_thread_does_not_open_there(app, db_session, clock,
                                                                   people):
    """Sealed with the thread's id as associated data: a copy swapped into another thread's
    row fails to authenticate, and the archive copy gives that thread its own key."""
    writer = ThreadKeys(app.extensions["messaging_keys"].pgp, server_key=SERVER_KEY)
    first, second = _threads(db_session, clock, people.member(), writer)
    rows = {t.id: db_session.scalars(select(ThreadKey).where(
        ThreadKey.thread_id == t.id, ThreadKey.purpose == "server")).one() for t in (first, second)}
    rows[second.id].wrapped = rows[first.id].wrapped
    db_session.flush()
    pgp = _CountingPGP(writer.pgp)
    fresh = ThreadKeys(pgp, server_key=SERVER_KEY)
    assert fresh.key_for(db_session, second.id) == writer.key_for(db_session, second.id)
    assert fresh.key_for(db_session, second.id) != writer.key_for(db_session, first.id)
    assert pgp.calls == ["list secret keys", "decrypt"]


def test_rotation_gives_older_threads_a_server_copy(app, db_session, clock, people, tmp_path):
    import shutil

    from messaging.pgp import PGP

    # Rotate in a copy of the session keyring so other tests keep their archive key.
    home = tmp_path / "gnupg"
    shutil.copytree(app.config["PORTAL_GNUPGHOME"], home,
                    ignore=shutil.ignore_patterns("S.*", "*.lock", ".#*"))
    pgp = PGP(home)
    [thread] = _threads(db_session, clock, people.member(), ThreadKeys(pgp), n=1)
    assert set(db_session.scalars(select(ThreadKey.purpose).where(
        ThreadKey.thread_id == thread.id))) == {"archive"}  # made before server copies
    keys = ThreadKeys(pgp, server_key=SERVER_KEY)
    keys.rotate(db_session, clock, pgp.generate_archive_key(make_current=False))
    counting = _CountingPGP(pgp)
    fresh = ThreadKeys(counting, server_key=SERVER_KEY)
    assert fresh.key_for(db_session, thread.id) == keys.key_for(db_session, thread.id)
    assert counting.calls == []
    pgp.stop_agent()


def test_a_server_key_must_be_32_bytes(app):
    from messaging.exceptions import CryptoError

    with pytest.raises(CryptoError):
        ThreadKeys(app.extensions["messaging_keys"].pgp, server_key=b"short")
