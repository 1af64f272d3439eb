"""Safe Markdown: script refused, HTML never rendered, links with rel=noopener."""
from __future__ import annotations

import pytest

from messaging.exceptions import UnsafeContent
from messaging.markdown import check_text, render


@pytest.mark.parametrize("text", [
    "<script>alert(1)</script>", "<SCRIPT src=//x>", "<img src=x onerror=alert(1)>",
    "<a href='#' onclick='x()'>a</a>", "[klikšķis](javascript:alert(1))",
    "[x](jav&#x61;script:alert(1))", "[x](java\tscript:alert(1))", "<iframe src=//x>",
    "<svg/onload=alert(1)>", "&lt;script&gt;alert(1)&lt;/script&gt;",
])
def test_script_is_refused(text):
    with pytest.raises(UnsafeContent):
        check_text(text)


@pytest.mark.parametrize("text", ["a < b un c > d", "Cena: 5 <- 6", "<3 paldies", "**Labdien!**"])
def test_ordinary_text_passes(text):
    check_text(text)


def test_render_is_safe_anyway():
    html = render("<b>x</b> [CVK](https://www.cvk.lv) ![i](https://x/t.png)")
    assert "<b>" not in html and "&lt;b&gt;" in html
    assert '<a href="https://www.cvk.lv" rel="noopener noreferrer">CVK</a>' in html
    assert "<img" not in html
