"""Messaging fixtures: one GnuPG home per test session (key generation once), the app bound to
it, and a second home holding a participant's own key pair."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from messaging.pgp import PGP


@pytest.fixture(scope="session")
def gnupg_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The portal's GnuPG home with its archive key (generated once per session)."""
    home = tmp_path_factory.getbasetemp() / "portal-gnupg"
    pgp = PGP(home)
    pgp.ensure_archive_key()
    yield home
    pgp.stop_agent()


@pytest.fixture(scope="session")
def user_gnupg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, str]]:
    """A participant's own GnuPG home: (home, fingerprint, armoured public key)."""
    home = tmp_path_factory.getbasetemp() / "user-gnupg"
    pgp = PGP(home)
    fpr = pgp.generate_archive_key("Līga Liepa", "liga@example.lv")
    yield home, fpr, pgp.export_public_key(fpr)
    pgp.stop_agent()


@pytest.fixture()
def app_overrides(gnupg_home: Path) -> dict[str, Any]:
    return {"PORTAL_GNUPGHOME": str(gnupg_home)}
