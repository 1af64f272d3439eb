"""Signed export verified by ``gpg --verify``; no plaintext of a known message anywhere in the
database; archive-key rotation re-wraps keys without touching bodies."""
from __future__ import annotations

import io
import subprocess
import zipfile
from datetime import timedelta

from sqlalchemy import LargeBinary, String, Text, inspect, select, text

from messaging import services
from messaging.keyring import rotate_archive_key
from messaging.models import Message, ThreadKey
from messaging.rules import Target, TargetKind
from tests.portal.messages.test_views import PDF

SECRET = "Zīmogs glabājas seifā nr. 3141"
SUBJECT = "Seifa kods 2718"


def test_signed_export_verifies_with_gpg(client, login_as, db_session, clock, people, tmp_path):
    member = people.member()
    thread = services.create_thread(db_session, clock, member, subject=SUBJECT, text=SECRET,
                                    targets=[Target(TargetKind.CVK)],
                                    uploads=[services.Upload("akts.pdf", PDF)])
    db_session.commit()
    login_as(member)
    response = client.get(f"/messages/{thread.id}/export")
    assert response.status_code == 200
    bundle = zipfile.ZipFile(io.BytesIO(response.data))
    names = bundle.namelist()
    archive_name = next(n for n in names if n.endswith(".zip"))
    bundle.extractall(tmp_path)
    home = tmp_path / "verifier"
    home.mkdir(mode=0o700)
    gpg = ["/usr/bin/gpg", "--homedir", str(home), "--batch"]
    subprocess.run(gpg + ["--import", str(tmp_path / "portal-archive-key.asc")], check=True,
                   capture_output=True)
    ok = subprocess.run(gpg + ["--verify", str(tmp_path / f"{archive_name}.asc"),
                               str(tmp_path / archive_name)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "Good signature" in ok.stderr
    inner = zipfile.ZipFile(tmp_path / archive_name)
    assert SECRET in inner.read("thread.json").decode()
    assert inner.read(next(n for n in inner.namelist() if n.endswith("akts.pdf"))) == PDF
    # A changed archive no longer verifies.
    tampered = tmp_path / "tampered.zip"
    tampered.write_bytes((tmp_path / archive_name).read_bytes() + b"x")
    bad = subprocess.run(gpg + ["--verify", str(tmp_path / f"{archive_name}.asc"), str(tampered)],
                         capture_output=True, text=True)
    assert bad.returncode != 0
    subprocess.run(["/usr/bin/gpgconf", "--homedir", str(home), "--kill", "all"], check=False)


def test_database_holds_no_plaintext(app, db_session, clock, people):
    member, officer = people.member(), people.cvk_officer()
    thread = services.create_thread(db_session, clock, member, subject=SUBJECT, text=SECRET,
                                    targets=[Target(TargetKind.CVK)],
                                    uploads=[services.Upload("seifs-qwzx.pdf", PDF)])
    message = services.post_message(db_session, clock, officer, thread, SECRET + " (atbilde)")
    services.edit_message(db_session, clock, officer, message.id, "labots: " + SECRET)
    services.search_messages(db_session, officer, "seifā")
    services.export_thread(db_session, clock, officer, thread.id)
    db_session.flush()
    # The texts, the subject, the file name and the file's content.
    needles = [s.encode() for s in (SECRET, SUBJECT, "seifs-qwzx.pdf", "seifs-qwzx")] + [PDF[:40]]
    connection = db_session.connection()
    inspector = inspect(connection)
    scanned = 0
    for table in inspector.get_table_names():
        columns = [c["name"] for c in inspector.get_columns(table)
                   if isinstance(c["type"], String | Text | LargeBinary)]
        if not columns:
            continue
        quoted = ", ".join(f'"{c}"' for c in columns)
        for row in connection.execute(text(f'SELECT {quoted} FROM "{table}"')):  # noqa: S608
            for value in row:
                if value is None:
                    continue
                data = bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
                scanned += 1
                for needle in needles:
                    assert needle not in data, f"plaintext in {table}: {needle!r}"
    assert scanned > 20


def test_rotation_rewraps_keys_without_touching_bodies(app, db_session, clock, people,
                                                       tmp_path):
    import shutil

    from messaging.keyring import ThreadKeys
    from messaging.pgp import PGP

    # Rotate in a copy of the session keyring so other tests keep their archive key.
    home = tmp_path / "gnupg"
    shutil.copytree(app.config["PORTAL_GNUPGHOME"], home,
                    ignore=shutil.ignore_patterns("S.*", "*.lock", ".#*"))
    keys = ThreadKeys(PGP(home))
    member = people.member()
    thread = services.create_thread(db_session, clock, member, subject="S", text=SECRET,
                                    targets=[Target(TargetKind.CVK)], keys=keys)
    body_before = db_session.scalars(select(Message.body_enc).where(
        Message.thread_id == thread.id)).one()
    clock.advance(timedelta(minutes=1))
    old, new, count = rotate_archive_key(db_session, clock, keys, delete_old=True)
    assert old != new and count >= 1
    keys.forget()
    fingerprints = set(db_session.scalars(select(ThreadKey.fingerprint).where(
        ThreadKey.thread_id == thread.id)))
    assert fingerprints == {new}
    [message] = services.messages_of(db_session, thread)
    assert message.body_enc == body_before
    assert services.text_of(db_session, message, keys=keys) == SECRET
    assert not keys.pgp.has_secret_key(old)
    keys.pgp.stop_agent()
