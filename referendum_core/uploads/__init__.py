"""Checking uploaded files: one check for every upload path (``check_upload``), and a reader
of zip containers that checks before it inflates (``archive``)."""
from __future__ import annotations

from referendum_core.uploads.checks import (
    DOCUMENT_TYPES,
    DOCX,
    EXTENSIONS,
    HEIC,
    HEIF,
    IMAGE_TYPES,
    JPEG,
    MAX_IMAGE_PIXELS,
    ODS,
    ODT,
    OFFICE_TYPES,
    PDF,
    PNG,
    TEXT,
    TEXT_TYPES,
    WEBP,
    XLSX,
    CheckedUpload,
    check_upload,
    check_upload_stream,
    safe_filename,
    sniff,
)
from referendum_core.uploads.exceptions import UploadRejected

__all__ = [
    "DOCUMENT_TYPES", "DOCX", "EXTENSIONS", "HEIC", "HEIF", "IMAGE_TYPES", "JPEG",
    "MAX_IMAGE_PIXELS", "ODS", "ODT", "OFFICE_TYPES", "PDF", "PNG", "TEXT", "TEXT_TYPES", "WEBP",
    "XLSX", "CheckedUpload", "UploadRejected", "check_upload", "check_upload_stream",
    "safe_filename", "sniff",
]
