"""The fast personal-code check of register imports agrees with python-stdnum (the code is
validated before anything else on a row)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from referendum_core.personal_code import InvalidPersonalCode, normalise
from referendum_core.register_import.validation import normalise_code


def _verdict(check, text):
    try:
        return check(text)
    except InvalidPersonalCode:
        return "invalid"


@settings(max_examples=400, deadline=None)
@given(digits=st.text(alphabet="0123456789", min_size=10, max_size=12),
       form=st.sampled_from(["plain", "dash", "spaced", "prefixed"]))
def test_fast_code_check_agrees_with_normalise(digits, form):
    text = {"plain": digits, "dash": f"{digits[:6]}-{digits[6:]}",
            "spaced": f" {digits} ", "prefixed": f"LV{digits}"}[form]
    assert _verdict(normalise_code, text) == _verdict(normalise, text)


@pytest.mark.parametrize("code", ["161175-19997", "16117519997", "328673-00679", " 161175-19997"])
def test_fast_code_check_accepts_valid_codes(code):
    assert normalise_code(code) == normalise(code)
