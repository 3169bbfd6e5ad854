"""What every browser test shares: the skip rule, the browser, the error collector and a few helpers.

Playwright drives Debian's Chromium (/usr/bin/chromium, or $GLOSSA_CHROMIUM); Playwright's own browser
download is never used. Without that browser every browser module is skipped, unless
GLOSSA_REQUIRE_BROWSER=1 (CI), where each fails. The rule runs when this module is imported, so a test
module must import from here before anything that needs the browser:

    from .base import BrowserTestCase, expect  # first: skips or fails the module without a browser

Every test also fails on a JavaScript error, a console error (CSP violations are reported there) or an
unexpected HTTP error response on the page; see BrowserTestCase.tearDown.
"""

import os
import re
import threading
from pathlib import Path
from unittest import mock

import pytest

CHROMIUM = Path(os.environ.get("GLOSSA_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _browser_missing():
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing (pip install -r requirements-dev.txt)"
    return None


if (_missing := _browser_missing()) is not None:
    if os.environ.get("GLOSSA_REQUIRE_BROWSER") == "1":
        # CI sets it: a run that silently skips the browser tests must not pass.
        pytest.fail(f"GLOSSA_REQUIRE_BROWSER=1 but the browser tests cannot run: {_missing}.", pytrace=False)
    pytest.skip(f"browser tests skipped: {_missing}", allow_module_level=True)

from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.testing import StaticLiveServerTestCase  # noqa: E402
from django.core.servers.basehttp import ThreadedWSGIServer  # noqa: E402
from django.db import connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.testcases import LiveServerThread  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402

__all__ = [
    "AXE_TAGS", "CHARACTER_BOXES", "CHROMIUM", "CHROMIUM_ARGS", "IS_TARGET", "REPORT_CSP_VIOLATIONS", "SELECT_RANGE",
    "BrowserTestCase", "LiveServerOneRequestAtATime", "Navigations", "OneRequestAtATimeServer", "expect",
]

expect.set_options(timeout=10_000)

# axe-core from node_modules (package-lock.json), run in the page by Playwright's evaluate, which the
# page's Content Security Policy does not govern: the app's CSP stays as strict as it is.
AXE_SCRIPT = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.2 level AA, as axe-core tags its rules.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
_RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return result.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => n.target.join(" ") + ": " + n.failureSummary.split("\\n").slice(1, 2).join(""))}));
}"""

# Where a string sits in a container's text (its textContent, which selection.js counts in: the
# footnote-like .hl-ref markers draw their numbers as CSS generated content, so they hold no text).
_LOCATE = """
function locate(selector, quote) {
  const root = document.querySelector(selector);
  if (!root) throw new Error("no element matches " + selector);
  const pieces = [];
  let text = "";
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    pieces.push({node: node, base: text.length});
    text += node.data;
  }
  const start = text.indexOf(quote);
  if (start < 0 || text.indexOf(quote, start + 1) >= 0) {
    throw new Error("the words must occur exactly once in " + selector + ": " + quote);
  }
  // The text node and offset of UTF-16 index i; `after` prefers the node ending there to the one starting there.
  function point(i, after) {
    for (const p of pieces) {
      const end = p.base + p.node.data.length;
      if (after ? (i > p.base && i <= end) : (i >= p.base && i < end)) return [p.node, i - p.base];
    }
    throw new Error("no text node holds offset " + i);
  }
  return {root: root, text: text, start: start, end: start + quote.length, point: point};
}
"""

# Viewport boxes of the first and last characters of `quote` (a surrogate pair is one character).
CHARACTER_BOXES = "([selector, quote]) => {" + _LOCATE + """
  const found = locate(selector, quote);
  found.root.scrollIntoView({block: "nearest"});
  function box(index, after) {
    const [node, offset] = found.point(index, after);
    const range = document.createRange();
    if (after) {
      const pair = offset >= 2 && /[\\uDC00-\\uDFFF]/.test(node.data[offset - 1]);
      range.setStart(node, offset - (pair ? 2 : 1));
      range.setEnd(node, offset);
    } else {
      const pair = /[\\uD800-\\uDBFF]/.test(node.data[offset]);
      range.setStart(node, offset);
      range.setEnd(node, offset + (pair ? 2 : 1));
    }
    const rects = range.getClientRects();
    const r = after ? rects[rects.length - 1] : rects[0];
    return {x: r.left, y: r.top, width: r.width, height: r.height};
  }
  return {first: box(found.start, false), last: box(found.end, true)};
}"""

# Select `quote` with a DOM Range, as a user's keyboard or mouse selection would.
SELECT_RANGE = "([selector, quote]) => {" + _LOCATE + """
  const found = locate(selector, quote);
  const range = document.createRange();
  range.setStart(...found.point(found.start, false));
  range.setEnd(...found.point(found.end, true));
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}"""

# Whether the element is the document's :target (the element the URL's fragment names); for locator.evaluate.
IS_TARGET = "(element) => element.matches(':target')"

# Reported on the console, where the test collects it, even if Chromium stopped logging violations itself.
REPORT_CSP_VIOLATIONS = """document.addEventListener("securitypolicyviolation", (event) => {
  console.error("CSP violation: " + event.violatedDirective + " blocked " + (event.blockedURI || "inline"));
});"""


class Navigations(list):
    """The URLs of a page's main frame since watch_navigation: every change, history.pushState included.

    `loads` holds only the URLs of new documents requested, i.e. real page loads."""

    def __init__(self, page):
        super().__init__()
        self.page = page
        self.loads = []


class OneRequestAtATimeServer(ThreadedWSGIServer):
    """The live server, running one request at a time when its threads share the test's database connection.

    On SQLite the test database is in memory, so every request thread uses the test's one connection. Two
    requests at once on it (an aborted HTMX request still running on the server, two searches sent together)
    can deadlock: one thread holds SQLite's lock while a Python function that Django registers with SQLite
    (REGEXP, behind the search's __iregex lookups) waits for the GIL, and the other holds the GIL while it
    waits for SQLite's lock. The run then hangs for good. The flush after each test waits for the lock too;
    the test's own queries do not, so make them once the page has its answer (after an expect).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.request_lock = threading.Lock()

    def set_app(self, application):
        if not self.connections_override:  # PostgreSQL: a connection per thread, nothing shared
            return super().set_app(application)
        lock = self.request_lock

        def one_at_a_time(environ, start_response):
            with lock:
                return application(environ, start_response)

        return super().set_app(one_at_a_time)


class LiveServerOneRequestAtATime(LiveServerThread):
    server_class = OneRequestAtATimeServer


class BrowserTestCase(StaticLiveServerTestCase):
    """One Chromium per class, a fresh context and page per test, and no JavaScript error allowed."""

    # The live server needs committed data, so these are transactional tests; restoring the serialized
    # database after each flush brings back the Analysts and Curators groups of the data migration.
    serialized_rollback = True
    server_thread_class = LiveServerOneRequestAtATime

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        shared = {alias: connections[alias] for alias in cls._databases_names()}
        # Playwright's sync API runs an event loop in this thread, and Django refuses ORM calls from a thread
        # with a running loop. Allowed for these classes only, until the browser is gone (class cleanups run
        # last first, after tearDownClass): set at import, it would leak into the subprocesses other tests
        # start, where `manage.py check --deploy` rightly reports it (async.E001).
        environment = mock.patch.dict(os.environ, {"DJANGO_ALLOW_ASYNC_UNSAFE": "true"})
        environment.start()
        cls.addClassCleanup(environment.stop)
        cls.playwright = sync_playwright().start()
        cls.addClassCleanup(cls.playwright.stop)
        # The sync API keeps an asyncio loop running in this thread until stop(), and while one runs Django
        # keeps connections per context instead of per thread: the ORM would open a second connection, one
        # that the live server (on SQLite) and serialized_rollback know nothing about. Keep the same one.
        for alias, connection in shared.items():
            connections[alias] = connection
        cls.browser = cls.playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        cls.addClassCleanup(cls.browser.close)

    def setUp(self):
        super().setUp()
        self.problems = []
        # Patterns of console messages or responses a test expects (e.g. the 422 of a refused form).
        self.expected_problems = []
        self.page = self.new_page()

    def new_page(self, **context_options):
        """A page in a context of its own (its own cookies), watched by the error collector."""
        options = {"viewport": {"width": 1280, "height": 900}} | context_options
        context = self.browser.new_context(base_url=self.live_server_url, **options)
        self.addCleanup(context.close)
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("console", self._on_console)
        page.on("response", self._on_response)
        return page

    def _on_console(self, message):
        # The site has no favicon; Chromium's request for one is not the page's doing.
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            self.problems.append(f"console error: {message.text}")

    def _on_response(self, response):
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            self.problems.append(f"HTTP {response.status}: {response.request.method} {response.url}")

    def tearDown(self):
        if not self.page.is_closed():
            self.page.evaluate("0")  # lets Playwright deliver the events still on their way
        problems = [p for p in self.problems if not any(re.search(e, p) for e in self.expected_problems)]
        super().tearDown()
        self.assertEqual(problems, [], "the page reported errors")

    def _fixture_teardown(self):
        # The flush, after the pages are closed: not while a request the browser gave up on still runs.
        lock = self.server_thread.httpd.request_lock
        acquired = lock.acquire(timeout=30)
        try:
            super()._fixture_teardown()
        finally:
            if acquired:
                lock.release()

    # Helpers

    def log_in(self, user, page=None):
        """Log in without the form: a test client's session cookie, handed to the browser.

        A client of its own each time: logging another user into the same client would end the session of
        the one before, and so log out a browser context already given its cookie."""
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        (page or self.page).context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": self.live_server_url}]
        )

    def axe_violations(self, page=None):
        """axe-core's WCAG 2.2 AA violations on the page as it is now: [{id, impact, help, nodes}]."""
        page = page or self.page
        if not AXE_SCRIPT.exists():
            if os.environ.get("GLOSSA_REQUIRE_BROWSER") == "1":
                self.fail(f"GLOSSA_REQUIRE_BROWSER=1 but {AXE_SCRIPT} is missing (npm ci --ignore-scripts)")
            self.skipTest(f"{AXE_SCRIPT} is missing (npm ci --ignore-scripts)")
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8"))
        return page.evaluate(_RUN_AXE, AXE_TAGS)

    def assert_accessible(self, state, page=None):
        """No axe-core violation of WCAG 2.2 AA in the page's current `state` (named in the failure)."""
        self.assertEqual(self.axe_violations(page), [], f"axe-core: violations in {state}")

    def watch_navigation(self, page=None):
        """Mark the document and record every navigation of the main frame from now on (see Navigations)."""
        page = page or self.page
        page.evaluate("window.__marker = 1")
        navigations = Navigations(page)
        page.on("framenavigated", lambda frame: frame.parent_frame or navigations.append(frame.url))
        page.on(
            "request",
            lambda request: request.is_navigation_request()
            and request.frame.parent_frame is None
            and navigations.loads.append(request.url),
        )
        return navigations

    def assert_not_navigated(self, navigations, *, url_may_change=False):
        """The page was not reloaded; unless `url_may_change` (hx-push-url), its URL did not change either."""
        self.assertEqual(navigations.page.evaluate("window.__marker"), 1, "the page was reloaded")
        self.assertEqual(navigations.loads, [], "a new document was requested")
        if not url_may_change:
            self.assertEqual(list(navigations), [])
