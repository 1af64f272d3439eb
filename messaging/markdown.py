"""Safe Markdown: markdown-it-py with raw HTML disabled, then nh3 (ammonia) sanitising.

Two layers: ``check_text`` refuses text that tries to smuggle script (tags such as ``<script>``,
event-handler attributes, ``javascript:``-style links) so the sender gets a clear answer and
nothing is stored; ``render`` is safe for any text anyway (HTML is shown as text, links get
``rel="noopener noreferrer"``, only http(s)/mailto links survive).
"""
from __future__ import annotations

import html
import re
import unicodedata

import nh3
from markdown_it import MarkdownIt

from messaging.exceptions import UnsafeContent

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_md.disable("image")  # remote images would leak who reads a message (tracking pixels)

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}

_DANGEROUS_TAG = re.compile(
    r"<\s*/?\s*(script|iframe|frame|frameset|object|embed|applet|style|svg|math|img|link|meta|"
    r"base|form|input|button|textarea|select|video|audio|source|template)\b", re.IGNORECASE)
_EVENT_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE | re.DOTALL)
_BAD_SCHEME = re.compile(r"(javascript|vbscript|data|livescript)\s*:", re.IGNORECASE)


def _normalised(text: str) -> str:
    # Undo the usual disguises: HTML entities, full-width letters, control characters.
    text = html.unescape(html.unescape(text))
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")


def check_text(text: str) -> None:
    """Refuse text with script in it.

    Raises:
        UnsafeContent: the text holds a script-capable tag, an event handler or a script link.
    """
    plain = _normalised(text)
    if _DANGEROUS_TAG.search(plain):
        raise UnsafeContent("html_tag")
    if _EVENT_HANDLER.search(plain):
        raise UnsafeContent("event_handler")
    squeezed = re.sub(r"\s+", "", plain)
    if _BAD_SCHEME.search(squeezed):
        raise UnsafeContent("script_link")


def render(text: str) -> str:
    """HTML for a message text (safe to insert into a page)."""
    raw = _md.render(text)
    return nh3.clean(raw, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes=URL_SCHEMES, link_rel="noopener noreferrer")


def plain_excerpt(text: str, length: int = 140) -> str:
    """A one-line excerpt of a text (for lists and search results)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1].rstrip() + "…"
