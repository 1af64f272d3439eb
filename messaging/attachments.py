"""Attachment checks: the portal's one upload check (``referendum_core.uploads``) with the
types a message may carry — PDF, PNG, JPEG, WebP, and the zip-based office formats DOCX, XLSX,
ODT, ODS (whose archives are checked before anything in them is inflated)."""
from __future__ import annotations

from messaging.exceptions import AttachmentRejected
from referendum_core.uploads import (
    DOCUMENT_TYPES,
    DOCX,
    EXTENSIONS,
    JPEG,
    ODS,
    ODT,
    PDF,
    PNG,
    WEBP,
    XLSX,
    CheckedUpload,
    UploadRejected,
    check_upload,
    safe_filename,
)

__all__ = ["ALLOWED_TYPES", "DOCX", "EXTENSIONS", "JPEG", "ODS", "ODT", "PDF", "PNG", "WEBP",
           "XLSX", "CheckedFile", "inspect", "safe_filename"]

ALLOWED_TYPES = DOCUMENT_TYPES
CheckedFile = CheckedUpload


def inspect(data: bytes, filename: str, max_bytes: int) -> CheckedFile:
    """Check an uploaded file; return what it is.

    Raises:
        AttachmentRejected: ``too_large``, ``empty``, ``type_not_allowed``, ``type_mismatch``
            (the name claims another type), ``damaged`` or ``zip_bomb``.
    """
    try:
        return check_upload(data, filename or "file", allowed=ALLOWED_TYPES, max_bytes=max_bytes)
    except UploadRejected as err:
        raise AttachmentRejected(err.reason, err.detail) from err
