"""Domain exceptions of messaging. Each refusal carries a ``code`` the web layer maps to a
translated sentence (``portal/messages/views.py``), and the services audit it."""
from __future__ import annotations

from referendum_core.refusals import Refused as DomainRefused
from referendum_core.uploads.exceptions import UploadRejected


class MessagingError(Exception):
    """Base class of every messaging error."""

    code = "error"


class Refused(MessagingError, DomainRefused):
    """An action the rules do not allow; ``code`` names why."""

    area = "messaging"
    code = "refused"

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code = code


class NotParticipant(Refused):
    """The person is not in the thread."""

    code = "not_participant"

    def __init__(self, detail: str = "") -> None:
        super().__init__("not_participant", detail)


class ThreadClosed(Refused):
    """The thread no longer takes messages."""

    code = "thread_closed"

    def __init__(self, detail: str = "") -> None:
        super().__init__("thread_closed", detail)


class UnsafeContent(Refused):
    """The text contains markup or links that are not allowed (e.g. script)."""

    code = "unsafe_content"

    def __init__(self, detail: str = "") -> None:
        super().__init__("unsafe_content", detail)


class AttachmentRejected(Refused):
    """A file failed the type, structure or size check (``code`` says which)."""

    REASONS = (*UploadRejected.REASONS, "upload_too_large", "too_many")


class CryptoError(MessagingError):
    """Decryption or key unwrapping failed."""

    code = "crypto"


class PGPError(MessagingError):
    """GnuPG refused an operation (bad key, missing secret key, failed signature)."""

    code = "pgp"


class KeyNotFound(PGPError):
    """No usable key for the operation (e.g. no portal archive key yet)."""

    code = "pgp_key_missing"
