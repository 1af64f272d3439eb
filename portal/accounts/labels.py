"""Human names of roles, translated."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.accounts.models import Role

ROLE_LABELS = {
    Role.CVK_ADMIN: _l("CVK administrator"),
    Role.CVK_OFFICER: _l("CVK officer"),
    Role.COMMISSION_CHAIR: _l("Commission chair"),
    Role.COMMISSION_MEMBER: _l("Commission member"),
    Role.OBSERVER: _l("Observer"),
    Role.VOTER: _l("Voter"),
}
