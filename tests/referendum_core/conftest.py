"""Shared fixtures of the domain tests: the personal-code protector and Ādaži (modules that
need the municipality with a voter base of their own override ``adazi``)."""
from __future__ import annotations

import pytest

from tests.conftest import municipality


@pytest.fixture()
def protector(keys):
    return keys.personal_codes


@pytest.fixture()
def adazi(db_session):
    return municipality(db_session)
