"""portal/static/js/counts.js writes a count in the browser in the form the server's own plural
rule picks: Latvian has three (0, 10–20, …0: "kontrolpunktu"; 1, 21, …: "kontrolpunkts";
2–9, 22, …: "kontrolpunkti"), English two."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from flask_babel import force_locale, get_translations

from portal.templating import count_forms

COUNTS_JS = Path(__file__).resolve().parents[3] / "portal" / "static" / "js" / "counts.js"
ONE, MANY = "%(num)s checkpoint kept by this browser.", "%(num)s checkpoints kept by this browser."
NUMBERS = [*range(0, 130), 200, 201, 211, 1000, 1001, 1011, 1012, 12345]


def _written_by_node(table: str) -> list[str]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = (f"const c = require({json.dumps(str(COUNTS_JS))});"
              f"const t = {table};"
              f"console.log(JSON.stringify({json.dumps(NUMBERS)}.map(n => c.text(t, n))));")
    done = subprocess.run([node, "-e", script], capture_output=True, text=True, timeout=30,
                          check=True)
    return json.loads(done.stdout)


@pytest.mark.parametrize("locale", ["lv", "en"])
def test_the_browser_writes_every_count_as_the_server_would(app, locale):
    with app.test_request_context(), force_locale(locale):
        table = count_forms(ONE, MANY)
        server = [get_translations().ungettext(ONE, MANY, n) % {"num": n} for n in NUMBERS]
    assert _written_by_node(table) == server


def test_latvian_counts_take_their_three_forms(app):
    with app.test_request_context(), force_locale("lv"):
        table = json.loads(count_forms(ONE, MANY))
    assert len(table["forms"]) == 3 and len(table["of"]) == 200
    texts = _written_by_node(json.dumps(table))
    said = dict(zip(NUMBERS, texts, strict=True))
    assert said[0] == "0 kontrolpunktu saglabāts šajā pārlūkā."
    assert said[1] == "1 kontrolpunkts saglabāts šajā pārlūkā."
    assert said[2] == "2 kontrolpunkti saglabāti šajā pārlūkā."
    assert said[11] == "11 kontrolpunktu saglabāts šajā pārlūkā."
    assert said[21] == "21 kontrolpunkts saglabāts šajā pārlūkā."
    assert said[1011] == "1011 kontrolpunktu saglabāts šajā pārlūkā."
