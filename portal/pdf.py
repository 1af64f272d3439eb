"""What the PDFs the portal issues share (fpdf2): a font with the Latvian letters, and the
texts written in it."""
from __future__ import annotations

import unicodedata
from pathlib import Path

from fpdf import FPDF

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))


def font(pdf: FPDF) -> str:
    """DejaVu Sans (Latvian letters) when installed, else the core font with ASCII fallbacks."""
    for folder in FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.exists() and bold.exists():
            pdf.add_font("DejaVu", "", str(regular))
            pdf.add_font("DejaVu", "B", str(bold))
            return "DejaVu"
    return "Helvetica"


def text(family: str, value: str) -> str:
    """``value`` as ``family`` can write it (the core font only has Latin-1)."""
    if family != "Helvetica":
        return value
    return unicodedata.normalize("NFKD", value).encode("latin-1", "ignore").decode("latin-1")
