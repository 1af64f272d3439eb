"""The portal's OpenPGP key home: one ``PGP`` per GnuPG home and process, shared by messaging
(archive key) and voting (signed protocols)."""
from __future__ import annotations

import threading

from messaging.pgp import PGP

_pgp_by_home: dict[str, PGP] = {}
_lock = threading.Lock()


def pgp_for(home: str) -> PGP:
    """One ``PGP`` per GnuPG home and process (starting gpg costs a subprocess)."""
    with _lock:
        if home not in _pgp_by_home:
            _pgp_by_home[home] = PGP(home)
        return _pgp_by_home[home]
