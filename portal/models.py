"""Imports every mapped module so ``Base.metadata`` is complete (Alembic, tests, create_all)."""
from __future__ import annotations

from messaging import models as messaging_models  # noqa: F401
from portal.accounts import models as accounts_models  # noqa: F401
from portal.cases import models as case_token_models  # noqa: F401
from referendum_core import audit as audit_models  # noqa: F401
from referendum_core import check_decision as check_decision_models  # noqa: F401
from referendum_core import checkpoints as checkpoint_models  # noqa: F401
from referendum_core import etvr as etvr_models  # noqa: F401
from referendum_core import initiatives as initiative_models  # noqa: F401
from referendum_core import organisation as organisation_models  # noqa: F401
from referendum_core import register as register_models  # noqa: F401
from referendum_core import register_import as register_import_models  # noqa: F401
from referendum_core import signatures as signature_models  # noqa: F401
from referendum_core.cases import models as case_models  # noqa: F401
from referendum_core.db import Base
from referendum_core.observers import models as observer_models  # noqa: F401
from referendum_core.voting import models as voting_models  # noqa: F401

metadata = Base.metadata
