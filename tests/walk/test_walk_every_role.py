"""Every page every demo role can reach, in Latvian, walked in Chromium on the living demo
(``portal.seed_story``): the crawler starts at the home page, follows the navigation and the
links on each page (same-origin GETs only, a few pages per kind of address) and fails on any
raw code a person should never read (state and action codes, article references in the
code's notation, English form errors, audit action names, object reprs, JSON) and on any
serious or critical axe-core violation."""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest

from tests.browser import check_a11y
from tests.living_demo import DEMO_PEOPLE, sign_in
from tests.tour import new_context

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]

# Codes and English that must never reach a Latvian page's text or its labels.
STATE_CODES = ("scheduled", "approved", "collecting", "submitted", "triaged", "investigating",
               "awaiting_information", "under_review", "in_court", "withdrawn", "dismissed",
               "resolved", "answered", "decided", "tallied", "counting", "setup", "voting",
               "closed", "published", "draft", "rejected", "pending", "open", "applied",
               # case types
               "initiative", "observer_report", "complaint", "commission_query", "home_voting")
ACTION_CODES = ("approve", "triage", "investigate", "review", "resolve", "dismiss", "reopen",
                "escalate", "assign", "withdraw", "close_unappealed")
FORBIDDEN = (
    (r"\b(?:" + "|".join(STATE_CODES) + r")\b", "state code"),
    (r"\b(?:" + "|".join(ACTION_CODES) + r")\b", "action code"),
    (r"\bArt\. ?\d+(?:\(\d+\))?", "article in the code's notation"),
    (r"This field is required|Not a valid|Invalid input|Field must be|Invalid choice",
     "English form error"),
    (r"\b(?:case|voting|messaging|message|initiative|signature|register|login|logout|"
     r"password|2fa|user|invitation|membership|voter|etvr|service_token|retention)"
     r"\.[a-z_]+\b", "audit action"),
    (r"<[A-Za-z]+#\d+>", "object repr"),
    (r"\bCase \d+\b|\bUser \d+\b", "English object name"),
    (r'\{\s*"[a-z_]+"\s*:', "JSON"),
    (r"\bNone\b|\bnull\b|\bTrue\b|\bFalse\b", "Python or JSON value"),
)
PATTERNS = [(re.compile(p), why) for p, why in FORBIDDEN]
# Addresses not to follow: leaving, downloads and machine answers.
SKIP = re.compile(r"/logout|/static/|/api/|\.(?:csv|json|pdf|zip|asc|png|txt)$|/download|"
                  r"/export|/evidence|/attachments?/|/checkpoints/|/media/")
PER_KIND = 2      # pages per kind of address (digits replaced): bounded, still every kind
MAX_PAGES = 90    # per role
ROLES = ("anonymous", *DEMO_PEOPLE)
# Text on the page that is data, not wording: e-mail addresses, hashes and trackers.
DATA = re.compile(r"\S+@\S+|\S+\.(?:csv|json|pdf|png|jpg|asc|txt|xml)\b|\b[0-9a-f]{16,}\b|\b[A-Za-z0-9+/=_-]{24,}\b")


def raw_codes(page: Any) -> list[str]:
    """What the page shows (text, labels, titles, placeholders) that matches a forbidden
    pattern; ``data-raw-ok`` marks data a person asked for (a ballot's JSON)."""
    texts = page.evaluate("""() => {
        const root = document.body.cloneNode(true);
        root.querySelectorAll('script, style, template, [data-raw-ok]').forEach(e => e.remove());
        const out = [document.title];
        // Block elements' text apart, so words of two cells never run together.
        root.querySelectorAll('*').forEach(e => e.append(' '));
        out.push(root.textContent);
        root.querySelectorAll('[title],[aria-label],[placeholder],[alt]').forEach(e => {
            for (const a of ['title', 'aria-label', 'placeholder', 'alt'])
                if (e.hasAttribute(a)) out.push(e.getAttribute(a));
        });
        return out; }""")
    found = []
    for text in texts:
        text = DATA.sub(" ", text or "")
        for pattern, why in PATTERNS:
            for match in pattern.finditer(text):
                start = max(0, match.start() - 30)
                found.append(f"{why}: …{text[start:match.end() + 30]!r}…")
    return found


def unstyled_buttons(page: Any) -> list[str]:
    """Visible buttons that look like the browser's own (one button style everywhere)."""
    return [f"unstyled button: {text!r}" for text in page.evaluate("""() =>
        [...document.querySelectorAll('button, input[type=submit], input[type=button]')]
        .filter(b => b.offsetParent !== null && !b.classList.contains('link-button'))
        .filter(b => { const c = getComputedStyle(b);
            return ['rgb(239, 239, 239)', 'rgb(240, 240, 240)', 'rgba(0, 0, 0, 0)']
                .includes(c.backgroundColor) && c.borderStyle !== 'solid'
                || c.backgroundColor === 'rgb(239, 239, 239)'; })
        .map(b => (b.innerText || b.value || '').trim())""")]


def _kind(path: str) -> str:
    return re.sub(r"\d+", "#", path)


def walk(page: Any, base: str) -> tuple[dict[str, list[str]], list[str]]:
    """Breadth-first over the role's same-origin links; returns the problems keyed by path and
    the paths visited."""
    problems: dict[str, list[str]] = {}
    queue, seen, kinds = ["/"], {"/"}, {}
    visited: list[str] = []
    while queue and len(visited) < MAX_PAGES:
        path = queue.pop(0)
        kind = _kind(path)
        if kinds.get(kind, 0) >= PER_KIND:
            continue
        kinds[kind] = kinds.get(kind, 0) + 1
        response = page.goto(base + path)
        visited.append(path)
        status = response.status if response else 0
        if status >= 500:
            problems[path] = [f"HTTP {status}"]
            continue
        if page.get_by_text("Gatavs.").count():
            page.get_by_text("Gatavs.").first.wait_for()
        found = raw_codes(page) + unstyled_buttons(page)
        if kinds[kind] == 1:
            # axe on the first page of each kind: the second is the same template with other
            # data, which the raw-code check reads; axe is most of a page's time in the walk.
            found += [f"axe {v['id']} ({v['impact']}): {v['nodes']}" for v in check_a11y(page)]
        if found:
            problems[path] = found
        for href in page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)"):
            url = urlsplit(urljoin(page.url, href))
            if f"{url.scheme}://{url.netloc}" != base:
                continue
            target = url.path + (f"?{url.query}" if url.query else "")
            if target not in seen and not SKIP.search(url.path):
                seen.add(target)
                queue.append(target)
    return problems, visited


@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_the_role_reads_as_latvian_and_passes_axe(demo, browser, role):
    live, real, _story = demo
    context = new_context(browser)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.dismiss())
    try:
        if role != "anonymous":
            sign_in(page, live, real, role)
        problems, visited = walk(page, live.url)
        print(role, len(visited), visited)  # noqa: T201 - the walk's reach, shown with -s
        assert len(visited) >= 3
        assert problems == {}
    finally:
        context.close()


def test_the_checker_finds_planted_codes(demo, browser):
    live, _real, _story = demo
    context = new_context(browser)
    page = context.new_page()
    try:
        page.goto(live.url + "/")
        page.evaluate("""() => { const p = document.createElement('p');
            p.textContent = 'Statuss: under_review, case.transition <user#7> Art. 10(4) '
                + 'This field is required. {"to": "x"}';
            document.querySelector('main').appendChild(p); }""")
        kinds = {f.split(":")[0] for f in raw_codes(page)}
        assert {"state code", "audit action", "object repr",
                "article in the code's notation", "English form error", "JSON"} <= kinds
    finally:
        context.close()
