"""Every kind of page in a real browser: accessible (axe-core, WCAG 2.2 AA) and never wider than a phone.

The pages are those of tests/site_pages.py, which test_markup.py checks with the Nu Html Checker; the
browser, the skip rule, axe-core and the error collector are in base.py.
"""

from .base import BrowserTestCase, expect  # first: the skip rule

import pytest  # noqa: E402

from ..site_pages import first_time_analyst, make_site  # noqa: E402

pytestmark = pytest.mark.browser

PHONE_WIDTHS = (320, 390)


class PageTestCase(BrowserTestCase):
    maxDiff = None

    def setUp(self):
        super().setUp()
        self.site = make_site()
        self.newcomer = first_time_analyst()

    def pages(self):
        """(kind, url, user) of every page kind: the public ones logged out, the workspace's logged in."""
        yield from ((kind, url, None) for kind, url in self.site.public)
        yield from ((kind, url, self.site.analyst) for kind, url in self.site.workspace)
        yield "workspace home, first time", "/workspace/", self.newcomer
        yield from ((kind, url, self.site.curator) for kind, url in self.site.admin)

    def open(self, page, url, user, logged_in):
        if user is not None and logged_in.get(id(page)) != user:
            page.context.clear_cookies()
            self.log_in(user, page)
            logged_in[id(page)] = user
        page.goto(url)
        expect(page.locator("h1").first).to_be_visible()


class AccessibilityTests(PageTestCase):
    def test_no_axe_violations_on_any_page(self):
        """axe-core finds no WCAG 2.2 AA violation on any page kind, public or workspace (figures printed)."""
        found, logged_in = {}, {}
        for kind, url, user in self.pages():
            if user is None and logged_in:
                self.page.context.clear_cookies()
                logged_in.clear()
            self.open(self.page, url, user, logged_in)
            found[f"{kind} ({url})"] = self.axe_violations()
        print("\naxe-core, WCAG 2.2 AA: " + "; ".join(f"{kind}: {len(v)}" for kind, v in found.items()))
        self.assertEqual({kind: v for kind, v in found.items() if v}, {})


class PhoneWidthTests(PageTestCase):
    def test_no_page_scrolls_sideways_on_a_phone(self):
        """At 320 and 390 CSS pixels no page is wider than the screen, logged in or not (widths printed)."""
        widths, logged_in = {}, {}
        for width in PHONE_WIDTHS:
            page = self.new_page(viewport={"width": width, "height": 800})
            for kind, url, user in self.pages():
                if user is None and logged_in.get(id(page)):
                    page.context.clear_cookies()
                    logged_in.pop(id(page))
                self.open(page, url, user, logged_in)
                widths[(kind, width)] = page.evaluate("document.documentElement.scrollWidth")
        print("\nscrollWidth at 320/390 px: " + "; ".join(
            f"{kind}: {widths[(kind, 320)]}/{widths[(kind, 390)]}" for kind, _, _ in self.pages()))
        too_wide = {f"{kind} at {width}": scroll for (kind, width), scroll in widths.items() if scroll > width}
        self.assertEqual(too_wide, {})

    def test_open_editor_and_annotate_control_fit_a_phone(self):
        """At 320 px, words selected at the end of a line and the editor opened on them widen nothing."""
        page = self.new_page(viewport={"width": 320, "height": 700})
        self.log_in(self.site.analyst, page)
        page.goto(self.site.workspace_url)
        page.get_by_role("button", name="Select words with the keyboard").click()
        page.keyboard.press("End")
        page.keyboard.press("Shift+ArrowLeft")
        expect(page.get_by_role("button", name="Annotate (A)")).to_be_visible()
        page.keyboard.press("a")
        expect(page.locator("#annotation-form textarea[name=body]")).to_be_focused()
        self.assertEqual(page.evaluate("document.documentElement.scrollWidth"), 320)


class AxeCheckTests(PageTestCase):
    """The axe-core check behind every 'no violation' assertion does find violations, so a clean run means something."""

    def test_axe_reports_a_button_without_a_name(self):
        """A button with no text or label added to a page is reported as button-name."""
        self.page.goto(self.site.treaty_url)
        self.page.evaluate("document.querySelector('main').appendChild(document.createElement('button'))")
        self.assertIn("button-name", [violation["id"] for violation in self.axe_violations()])

