"""Photos attached to an observer's report whose form came back with an error, kept for a short
while so the observer need not take them again.

Each photo is encrypted with a fresh key and written under the instance directory by a random
name; the key, the names and the person travel back to the form in a signed, expiring token.
The disk alone cannot read a photo, and a token works only for the person it was made for."""
from __future__ import annotations

import secrets
import time
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from itsdangerous import BadSignature, URLSafeTimedSerializer

KEEP_SECONDS = 30 * 60
_SALT = "observer-report-photos"


def stash_photos(photos: list[bytes], user_id: int, directory: Path, secret: str) -> str:
    """Keep ``photos`` for ``user_id``; returns the token that gives them back. Photos older
    than the keeping time are removed on the way."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    _remove_old(directory)
    key = Fernet.generate_key()
    names = []
    for photo in photos:
        name = secrets.token_hex(16)
        (directory / name).write_bytes(Fernet(key).encrypt(photo))
        names.append(name)
    return URLSafeTimedSerializer(secret, salt=_SALT).dumps(
        {"u": user_id, "k": key.decode(), "f": names})


def take_photos(token: str, user_id: int, directory: Path, secret: str, *,
                remove: bool = True) -> list[bytes]:
    """The photos ``token`` kept for ``user_id`` (removed from the disk unless ``remove`` is
    false); none for a token that is forged, expired, someone else's or already used."""
    if not token:
        return []
    try:
        data = URLSafeTimedSerializer(secret, salt=_SALT).loads(token, max_age=KEEP_SECONDS)
    except BadSignature:
        return []
    if not isinstance(data, dict) or data.get("u") != user_id:
        return []
    photos = []
    for name in data.get("f", []):
        path = directory / str(name)
        if not (len(str(name)) == 32 and path.is_file()):
            continue
        try:
            photos.append(Fernet(data["k"].encode()).decrypt(path.read_bytes()))
        except (InvalidToken, ValueError):
            continue
        if remove:
            path.unlink(missing_ok=True)
    return photos


def _remove_old(directory: Path) -> None:
    limit = time.time() - KEEP_SECONDS
    for path in directory.iterdir():
        if path.is_file() and path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)
