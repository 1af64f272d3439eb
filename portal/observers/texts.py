"""Labels of the accreditation statuses and observer kinds (the refusals' sentences are in
``portal.refusal_texts``)."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

STATUSES = {
    "requested": _l("Waiting for the commission"),
    "approved": _l("Accredited"),
    "rejected": _l("Refused"),
    "withdrawn": _l("Withdrawn"),
    "revoked": _l("Accreditation revoked"),
}
KINDS = {
    "initiator": _l("Authorised by the initiators"),
    "cvk_member": _l("Member of the Central Election Commission"),
    "commission_member": _l("Member of the election commission"),
    "media": _l("Media representative"),
}

def template_helpers() -> dict[str, Any]:
    """``status_label`` and ``kind_label`` for the observer templates."""
    return {"status_label": lambda key: str(STATUSES.get(key, key)),
            "kind_label": lambda key: str(KINDS.get(key, key))}
