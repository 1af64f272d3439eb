"""CSV that is safe to open in a spreadsheet (CSV injection): a cell a spreadsheet would run
as a formula gets a leading apostrophe, and every cell is quoted, so that a spreadsheet that
splits on another separator (Excel in the Latvian locale splits on ";") cannot cut a cell into
a new one that starts with "="."""
from __future__ import annotations

import csv
from typing import Any

# Spreadsheets run cells starting with these as formulas.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """``value`` as a cell no spreadsheet runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in FORMULA_STARTS else text


def csv_writer(buffer: Any) -> Any:
    """A ``csv.writer`` that quotes every cell."""
    return csv.writer(buffer, quoting=csv.QUOTE_ALL)
