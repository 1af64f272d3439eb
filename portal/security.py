"""Security headers: a strict Content-Security-Policy with no inline script, and friends."""
from __future__ import annotations

from flask import Response
from werkzeug.routing import IntegerConverter

CSP = "; ".join([
    "default-src 'self'",
    # libsodium runs as WebAssembly in the voting page: allow compiling wasm, never eval of JS.
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def apply_security_headers(response: Response, *, production: bool) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(self), microphone=(), geolocation=(self)")
    if production:
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    if response.mimetype == "text/html":
        headers.setdefault("Cache-Control", "no-store")
    return response


class DatabaseIdConverter(IntegerConverter):
    """``<int:…>`` in URLs, bounded to what a database id column holds: a longer number is a
    404 like any other unknown id, not an overflow (a 500) in the driver."""

    def __init__(self, map: object, fixed_digits: int = 0, min: int | None = 0,  # noqa: A002
                 max: int | None = 2**63 - 1, signed: bool = False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max,  # type: ignore[arg-type]
                         signed=signed)
