"""Streaming import of Population Register and Land Register extracts (CSV, JSON array or
JSON lines) as a diff against the register.

The shape of one import:

1. the header (CSV) or the first object's fields (JSON) are checked; a wrong header is refused
   before anything is written;
2. rows are validated one by one and staged in batches (``register_import_staging``), so memory
   stays bounded whatever the file size;
3. duplicate (identical) and contradictory rows are found in SQL;
4. in "abort" mode any problem undoes everything staged; in "continue" mode bad rows are
   skipped and the people they name keep their current records;
5. the diff is applied set-based (insert new, update changed, remove missing within the source
   and municipality imported) and audited with its counts.

Steps 2-5 run inside one savepoint: an error at any point leaves the register as it was.

Modules: ``reading`` (streaming CSV and JSON parsers), ``validation`` (one row), ``staging``
(batches, repeated rows), ``diff`` (applying it), ``services`` (``import_register``),
``models`` and ``exceptions``.
"""
from __future__ import annotations

from referendum_core.register_import.exceptions import ImportRefused
from referendum_core.register_import.models import (
    BATCH_SIZE,
    HEADERS,
    MAX_NAME_LENGTH,
    MAX_PROBLEMS_KEPT,
    MAX_ROW_CHARS,
    WARNINGS,
    FileFormat,
    ImportMode,
    ImportReport,
    Problem,
    RegisterImport,
    RegisterSource,
    RowProblem,
    StagedRow,
)
from referendum_core.register_import.services import import_register

__all__ = [
    "BATCH_SIZE",
    "HEADERS",
    "MAX_NAME_LENGTH",
    "MAX_PROBLEMS_KEPT",
    "MAX_ROW_CHARS",
    "WARNINGS",
    "FileFormat",
    "ImportMode",
    "ImportRefused",
    "ImportReport",
    "Problem",
    "RegisterImport",
    "RegisterSource",
    "RowProblem",
    "StagedRow",
    "import_register",
]
