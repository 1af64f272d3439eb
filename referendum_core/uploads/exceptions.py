"""Why an uploaded file is refused."""
from __future__ import annotations

from referendum_core.refusals import Refused


class UploadRejected(Refused):
    """A file failed the size, type, structure or archive check; nothing was kept.

    ``reason`` is one of ``too_large``, ``empty``, ``type_not_allowed``, ``type_mismatch`` (the
    name claims another type), ``damaged`` or ``zip_bomb``; ``detail`` is for logs only.
    """

    area, code = "upload", "rejected"
    REASONS = ("too_large", "empty", "type_not_allowed", "type_mismatch", "damaged", "zip_bomb")

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.detail = reason, detail
