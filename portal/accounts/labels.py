"""Human names of roles, translated."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.accounts.models import Role

ROLE_LABELS = {
    Role.CVK_ADMIN: _l("CVK administrator"),
    Role.CVK_OFFICER: _l("CVK officer"),
    Role.COMMISSION_CHAIR: _l("Commission chair"),
    Role.COMMISSION_MEMBER: _l("Commission member"),
    Role.INTERNET_COMMISSION_CHAIR: _l("Internet polling-station commission chair"),
    Role.INTERNET_COMMISSION_MEMBER: _l("Internet polling-station commission member"),
    Role.OBSERVER: _l("Observer"),
    Role.VOTER: _l("Voter"),
}
