"""Personal codes (Art. 7(3): applicants give name and personal code): validation and storage."""
from __future__ import annotations

import pytest

from referendum_core.personal_code import (
    InvalidPersonalCode,
    PersonalCodeProtector,
    is_valid,
    masked,
    normalise,
)


@pytest.mark.parametrize("code", ["161175-19997", "16117519997", " 161175 19997 ", "328673-00679"])
def test_valid_codes(code):
    assert is_valid(code)


@pytest.mark.parametrize("code", ["161175-19998", "321375-19997", "328673-00677", "40003521600",
                                  "abc", "", "1611751999", "161175-199977"])
def test_invalid_codes(code):
    assert not is_valid(code)
    with pytest.raises(InvalidPersonalCode):
        normalise(code)


def test_protector_hashes_and_encrypts():
    p = PersonalCodeProtector(b"k" * 32)
    assert p.lookup_hash("161175-19997") == p.lookup_hash("16117519997")
    assert p.lookup_hash("161175-19997") != PersonalCodeProtector(b"j" * 32).lookup_hash("161175-19997")
    blob = p.encrypt("161175-19997")
    assert b"16117519997" not in blob
    assert p.decrypt(blob) == "16117519997"
    assert masked("16117519997") == "161175-*****"
