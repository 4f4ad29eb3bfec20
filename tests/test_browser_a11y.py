"""Can everyone use every main page, at phone and desktop size? (issue 12 item 14)

axe-core (through axe-playwright-python) runs on each main page for each role, on the small
demo community, in Chromium at phone size (390x844) and desktop size (1280x900); a serious or
critical violation fails the test with the page, the rule and the elements. The pages are found
the way a user finds them: the role's top navigation, plus the first link of each kind of record
page (a group, a person, a case, a contact, an officer, a hand-over, a briefing, a form) seen on
those pages, so a page added later is checked without touching this file.

And: a form sent back with errors opens at a summary at its top, which takes focus, instead of
leaving the message under the sticky Send button.

Needs Debian's chromium and pip's playwright (skipped otherwise, see test_browser_officer).
One browser and one signed-in context per role for the whole module.
"""

from __future__ import annotations

import re

import pytest

from tests.browser import chromium, serve

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SIZES = {"phone": PHONE, "desktop": DESKTOP}
ROLES = {"officer": "officer1", "supervisor": "supervisor1", "unit": "unit1",
         "analyst": "analyst", "admin": "admin"}
BLOCKING = ("serious", "critical")

# Record pages and forms reached from the navigation pages: the first link of each kind is
# checked too. Anything else (CSV downloads, sign-out, exports) is not a page to check.
RECORD_LINKS = [
    r"/groups/\d+", r"/stakeholders/\d+", r"/cases/\d+", r"/contacts/\d+", r"/officers/\d+",
    r"/handovers/\d+", r"/handovers/plan", r"/beats/[^/?#]+/briefing", r"/cases/\d+/summary",
    r"/assignments/new\?group=\d+.*", r"/evaluation/trials/\d+", r"/evaluation/surveys/\d+",
    r"/wellbeing/\d+", r"/admin/users/\d+", r"/help(/[a-z-]*)?", r"/stakeholders/new",
    r"/groups/new", r"/cases/new", r"/cases/figures", r"/evaluation/training",
    r"/evaluation/surveys", r"/offline/beat", r"/offline/about", r"/data/import",
    # Edit forms, reached from the record pages above.
    r"/groups/\d+/edit", r"/stakeholders/\d+/edit", r"/contacts/\d+/edit", r"/cases/\d+/edit/\w+",
    r"/cases/\d+/actions/\d+/edit", r"/groups/\d+/relations/\d+/edit",
    r"/groups/\d+/memberships/\d+/edit", r"/privacy/stakeholders/\d+/consent",
    r"/privacy/stakeholders/\d+/erase",
]
RECORD_RE = [re.compile(f"^{p}(\\?.*)?$") for p in RECORD_LINKS]


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """The app on a file SQLite database with the small demo community."""


    from crm import create_app
    from crm.demo.services import seed_demo
    from crm.extensions import db
    from tests.conftest import make_config

    path = tmp_path_factory.mktemp("a11y") / "demo.db"
    app = create_app(make_config("sqlite", SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}",
                                 SQLALCHEMY_ENGINE_OPTIONS={}))
    with app.app_context():
        db.create_all()
        seed_demo("small")
        db.session.commit()
        db.session.remove()
    with serve(app) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    pytest.importorskip("axe_playwright_python", reason="pip install axe-playwright-python")
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def axe():
    from axe_playwright_python.sync_playwright import Axe
    return Axe()


def sign_in(page, base: str, username: str) -> list[str]:
    """Sign in as a demo user (enrolling the second factor when the role needs one); returns
    the pages passed on the way that are worth checking too (the second-factor steps)."""
    import pyotp

    from crm.demo.seed import DEMO_PASSWORD

    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    seen = []
    if "/login/second-factor" in page.url:
        seen.append("/login/second-factor")
        secret = re.sub(r"\s", "", page.inner_text("code.secret"))
        page.fill("#code", pyotp.TOTP(secret).now())
        page.click("form button[type=submit]")
        page.wait_for_load_state()
    assert "/login" not in page.url, f"{username} could not sign in: {page.url}"
    return seen


class RoleSession:
    """One signed-in context per role. Its page list starts with the role's navigation and
    grows, during the first size's pass, with the first record page of each kind linked from
    the pages checked (so no page is loaded twice to find them)."""

    def __init__(self, browser, base: str, username: str):
        self.base = base
        self.context = browser.new_context(viewport=PHONE, has_touch=True)
        self.context.set_default_timeout(20000)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("pageerror", lambda e: self.problems.append(f"{self.page.url}: {e}"))
        sign_in(self.page, base, username)
        self.page.goto(f"{base}/")
        nav = self._visible_links("header nav a[href^='/'], nav.nav a[href^='/']")
        search = ["/search?q=ma"] if self.page.locator("#header-q").count() else []
        self.pages = list(dict.fromkeys(["/", *nav, "/account", *search]))
        self._found: set[int] = set()
        self.complete = False

    def _visible_links(self, selector: str = "a[href^='/']") -> list[str]:
        return self.page.eval_on_selector_all(
            selector, "els => els.filter(e => e.getClientRects().length)"
                      ".map(e => e.getAttribute('href'))")

    def note_links(self) -> None:
        """Add the first not yet seen record page of each kind linked from this page."""
        if self.complete:
            return
        for href in self._visible_links():
            href = href.split("#")[0]
            for i, rx in enumerate(RECORD_RE):
                if i not in self._found and rx.match(href) and href not in self.pages:
                    self._found.add(i)
                    self.pages.append(href)

    def close(self):
        self.context.close()


@pytest.fixture(scope="module")
def sessions(browser, demo_server):
    made: dict[str, RoleSession] = {}

    def get(role: str) -> RoleSession:
        if role not in made:
            made[role] = RoleSession(browser, demo_server, ROLES[role])
        return made[role]

    yield get
    for s in made.values():
        s.close()


def blocking_violations(axe, page) -> list[str]:
    result = axe.run(page)
    out = []
    for v in result.response["violations"]:
        if v["impact"] in BLOCKING:
            targets = "; ".join(" ".join(map(str, n["target"])) for n in v["nodes"][:4])
            out.append(f"{v['id']} ({v['impact']}, {len(v['nodes'])}x): {v['help']} -> {targets}")
    return out


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("role", list(ROLES))
def test_every_main_page_passes_axe(sessions, axe, role, size):
    """Does axe-core find no serious or critical problem on any page this role uses?"""
    s = sessions(role)
    page = s.page
    page.set_viewport_size(SIZES[size])
    failures, checked = [], []
    for path in s.pages:  # grows while the first size is checked (RoleSession.note_links)
        response = page.goto(s.base + path)
        assert response is not None and response.status < 400, f"{role} {path}: {response and response.status}"
        page.wait_for_load_state()
        checked.append(path)
        s.note_links()
        for v in blocking_violations(axe, page):
            failures.append(f"{path}: {v}")
    s.complete = True
    print(f"axe: {role} at {size} size, {len(checked)} pages: {' '.join(checked)}")
    # The navigation is what the role sees, and the record pages were found from it.
    assert "/" in checked and len(checked) >= 4, checked
    assert not failures, f"{role} at {size} size ({len(checked)} pages):\n" + "\n".join(failures)
    assert not s.problems, s.problems


def test_the_second_factor_steps_pass_axe(browser, demo_server, axe):
    """The admin's sign-in (enrol a second factor) at phone size."""
    import pyotp

    from crm.demo.seed import DEMO_PASSWORD

    context = browser.new_context(viewport=PHONE, has_touch=True)
    try:
        page = context.new_page()
        page.goto(f"{demo_server}/login")
        assert blocking_violations(axe, page) == []
        page.fill("#username", "admin2-does-not-exist")
        page.fill("#password", "wrong")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert blocking_violations(axe, page) == []
        # A second sign-in of the demo admin: the factor is enrolled by now, or enrolled here.
        page.fill("#username", "admin")
        page.fill("#password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r".*/login/second-factor$"))
        assert blocking_violations(axe, page) == []
        if page.locator("code.secret").count():
            secret = re.sub(r"\s", "", page.inner_text("code.secret"))
            page.fill("#code", pyotp.TOTP(secret).now())
            page.click("form button[type=submit]")
            page.wait_for_load_state()
            assert blocking_violations(axe, page) == []
    finally:
        context.close()


def _summary_state(page) -> dict:
    return page.evaluate("""() => {
        const s = document.querySelector('[data-error-summary]');
        if (!s) { return null; }
        const r = s.getBoundingClientRect();
        return {focused: document.activeElement === s, top: r.top, bottom: r.bottom,
                height: window.innerHeight, text: s.innerText,
                links: Array.from(s.querySelectorAll('a')).map(a => a.getAttribute('href'))};
    }""")


def test_a_refused_form_opens_at_its_error_summary(sessions, axe):
    """An officer sends a new person without a name: the page opens at a summary that names the
    field and has focus, above the fold; its link takes them to the field."""
    s = sessions("officer")
    page = s.page
    page.set_viewport_size(PHONE)
    page.goto(f"{s.base}/stakeholders/new")
    page.fill("#phone", "555 0199")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_selector("[data-error-summary]")
    # The summary is parsed before the script that focuses it runs: wait (bounded) for focus.
    page.wait_for_function("document.activeElement && document.activeElement.hasAttribute('data-error-summary')",
                           timeout=10_000)
    state = _summary_state(page)
    assert state["focused"], "the error summary does not have focus"
    assert 0 <= state["top"] and state["bottom"] <= state["height"], state
    assert "Name" in state["text"] and "#name" in state["links"], state
    assert page.input_value("#phone") == "555 0199"  # what was typed is kept
    assert blocking_violations(axe, page) == []
    page.click("[data-error-summary] a[href='#name']")
    assert page.evaluate("document.activeElement.id") == "name"


def test_the_contact_form_opens_at_its_error_summary_not_under_send(sessions, axe):
    """The contact form refused by the server (a date in the future): the summary at the top
    has focus and is in view, clear of the sticky Send button."""
    s = sessions("officer")
    page = s.page
    page.set_viewport_size(PHONE)
    page.goto(f"{s.base}/contacts/new")
    page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('crm.contact-draft'))"
                  ".forEach(k => localStorage.removeItem(k))")
    page.goto(f"{s.base}/contacts/new")
    page.locator("input[name=group_ids]").first.check()
    page.fill("#occurred_at", "2999-01-01T10:00")
    page.click("#send")
    page.wait_for_selector("[data-error-summary]")
    page.wait_for_function("document.activeElement && document.activeElement.hasAttribute('data-error-summary')")
    state = _summary_state(page)
    send = page.locator("#send").bounding_box()
    assert 0 <= state["top"] and state["bottom"] <= min(state["height"], send["y"]), (state, send)
    assert "When" in state["text"], state["text"]
    assert blocking_violations(axe, page) == []
    page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('crm.contact-draft'))"
                  ".forEach(k => localStorage.removeItem(k))")
