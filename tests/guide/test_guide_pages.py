"""The user guide (``docs/guide/``) is whole: an index and a page per role, every picture a page
shows exists in ``img/`` (in 256 colours), every picture in ``img/`` is shown somewhere, and
every link between the pages leads to a page that exists."""
from __future__ import annotations

import re
from pathlib import Path

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guide"
PAGES = ("README.md", "cvk.md", "commission-member.md", "observer.md", "voter.md", "trustee.md")
IMAGE = re.compile(r"!\[[^\]]+\]\(([^)\s]+)\)")
LINK = re.compile(r"(?<!!)\[[^\]]+\]\(([^)\s#]+\.md)(?:#[^)]*)?\)")


def _text(name: str) -> str:
    return (GUIDE / name).read_text(encoding="utf-8")


def test_every_role_has_a_page_linked_from_the_index():
    index = _text("README.md")
    for page in PAGES[1:]:
        assert (GUIDE / page).is_file(), page
        assert f"]({page})" in index, f"README.md does not link {page}"


def test_every_picture_shown_exists_and_every_picture_is_shown():
    shown: set[str] = set()
    for page in PAGES:
        for target in IMAGE.findall(_text(page)):
            path = (GUIDE / target).resolve()
            assert path.is_file(), f"{page} shows {target}, which does not exist"
            assert path.parent == GUIDE / "img", f"{page}: {target} is not in img/"
            shown.add(path.name)
    on_disk = {p.name for p in (GUIDE / "img").glob("*.png")}
    assert on_disk - shown == set(), "pictures no page shows"
    assert shown, "the guide shows no pictures"


def test_links_between_pages_lead_somewhere():
    for page in PAGES:
        for target in LINK.findall(_text(page)):
            assert (GUIDE / target).is_file(), f"{page} links {target}"


def test_every_picture_is_regenerated_by_the_browser_test():
    source = "".join(p.read_text(encoding="utf-8")
                     for p in Path(__file__).parent.glob("test_guide_*.py"))
    names = set(re.findall(r'shot\([^,]+, f?"([a-z0-9-]+)', source))
    prefixes = set(re.findall(r'prefix="([a-z0-9-]+)"', source))
    for png in (GUIDE / "img").glob("*.png"):
        stem = png.stem
        assert stem in names or any(stem.startswith(f"{p}-") for p in prefixes), (
            f"{png.name} is not made by a tests/guide/test_guide_*.py browser test")


def test_the_pictures_are_kept_in_256_colours(tmp_path):
    """``make guide`` writes every picture with a 256-colour palette (a plain test run takes
    the pictures but leaves them in full colour: it checks which there are)."""
    from PIL import Image

    from tests.guide.test_guide_screenshots import _shrink

    for path in (GUIDE / "img").glob("*.png"):
        with Image.open(path) as image:
            assert image.mode == "P", f"{path.name} is not in 256 colours: run `make guide`"
    sample = tmp_path / "sample.png"
    Image.new("RGB", (40, 30), (200, 30, 60)).save(sample)
    _shrink(sample)
    with Image.open(sample) as image:
        assert (image.mode, image.size) == ("P", (40, 30))
