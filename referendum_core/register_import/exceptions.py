"""Why a whole file is refused: nothing of it is applied."""
from __future__ import annotations

from referendum_core.refusals import Refused
from referendum_core.uploads.exceptions import UploadRejected


class ImportRefused(Refused):
    """The file cannot be imported at all (wrong header, unreadable, empty); nothing written.

    ``reason`` is one of ``wrong_header``, ``empty``, ``not_utf8``, ``not_json``, ``not_csv``,
    or a refusal of the upload check (``type_not_allowed``, ``type_mismatch``, ``too_large``);
    ``missing`` / ``unexpected`` list the header problems.
    """

    area, code = "register_import", "refused"
    REASONS = ("wrong_header", "empty", "not_utf8", "not_json", "not_csv",
               *UploadRejected.REASONS)

    def __init__(self, reason: str, *, missing: tuple[str, ...] = (),
                 unexpected: tuple[str, ...] = (), line: int | None = None) -> None:
        super().__init__(f"register import refused: {reason}")
        self.reason, self.missing, self.unexpected, self.line = reason, missing, unexpected, line
