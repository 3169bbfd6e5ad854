"""Placing an annotation again, in a real browser: the author (and a curator, in the admin) drags the mouse over
words of the new wording and places the annotation there.

The browser, the skip rule and the error collector (any JavaScript, console/CSP or unexpected HTTP error fails
the test) are in base.py.
"""

import re
from .base import CHARACTER_BOXES, BrowserTestCase, expect  # first: the skip rule

import pytest  # noqa: E402
from django.urls import reverse  # noqa: E402

from annotations.models import Annotation  # noqa: E402
from treaty_app.treaty_text import import_treaty  # noqa: E402

from ..factories import make_annotation, make_provision, make_treaty, make_user  # noqa: E402
from ..test_placing import NEW, OLD, ORPHAN, TARGET  # noqa: E402  (the same wordings as the test-client tests)

pytestmark = pytest.mark.browser


class PlacingTests(BrowserTestCase):
    def setUp(self):
        super().setUp()
        self.treaty = make_treaty(slug="t", short_title="Partnership Treaty")
        self.provision = make_provision(self.treaty, number=4, text=OLD)
        self.analyst = make_user("ana")
        start = OLD.index(ORPHAN)
        self.annotation = make_annotation(self.provision, self.analyst, start, start + len(ORPHAN), body="Self-defence.")
        import_treaty(f"Article 4\n{NEW}\n", treaty=self.treaty)
        self.annotation.refresh_from_db()
        self.assertEqual(self.annotation.placement, "drifted")
        self.workspace_url = reverse("annotations:workspace", args=["t", "art-4"])

    def drag_select(self, quote, page, selector="#new-wording"):
        """Select `quote` with a real mouse drag from its first character to its last."""
        boxes = page.evaluate(CHARACTER_BOXES, [selector, quote])
        first, last = boxes["first"], boxes["last"]
        page.mouse.move(first["x"] + first["width"] * 0.25, first["y"] + first["height"] / 2)
        page.mouse.down()
        page.mouse.move(last["x"] + last["width"] * 0.75, last["y"] + last["height"] / 2, steps=10)
        page.mouse.up()

    def assert_form_holds(self, page, quote):
        """The form holds `quote` with its code-point offsets in the new wording (Python's str indices)."""
        start = NEW.index(quote)
        # The selection is read after mouseup, in a task of its own: wait for it to land in the form.
        expect(page.locator("form.place-form")).to_have_class(re.compile(r"\bhas-selection\b"))
        values = {name: page.locator(f"form.place-form [name={name}]").input_value() for name in ("words", "start", "end")}
        self.assertEqual(values, {"words": quote, "start": str(start), "end": str(start + len(quote))})

    def assert_placed(self, quote):
        self.annotation.refresh_from_db()
        start = NEW.index(quote)
        self.assertEqual(
            (self.annotation.placement, self.annotation.start, self.annotation.end, self.annotation.exact),
            ("anchored", start, start + len(quote), quote),
        )

    def test_author_selects_the_new_words_and_places_it(self):
        self.log_in(self.analyst)
        self.page.goto(self.workspace_url)
        card = self.page.locator(f"#annotation-{self.annotation.pk}")
        with self.page.expect_navigation():
            card.get_by_role("link", name="Place again").click()
        expect(self.page.get_by_role("heading", name="Place the annotation again")).to_be_visible()
        expect(self.page.locator(".old-wording mark")).to_have_text(ORPHAN)

        # Typing by hand drops offsets; a selection then brings them back.
        self.page.locator("form.place-form [name=words]").fill("typed words")
        self.drag_select(TARGET, self.page)
        self.assert_form_holds(self.page, TARGET)

        with self.page.expect_navigation():
            self.page.get_by_role("button", name="Place here").click()
        expect(self.page).to_have_url(f"{self.live_server_url}{self.workspace_url}#annotation-{self.annotation.pk}")
        expect(self.page.locator(".messages")).to_have_text(f"Placed again on “{TARGET}”.")
        expect(self.page.locator("#wording mark.hl")).to_have_text(TARGET)
        expect(self.page.get_by_role("heading", name="Needs attention")).to_have_count(0)
        self.assert_placed(TARGET)
        self.assertEqual(self.annotation.history.first().history_user, self.analyst)

    def test_curator_places_it_in_the_admin(self):
        curator = make_user("cora", role="Curators", is_staff=True)
        self.log_in(curator)
        self.page.goto(reverse("admin:annotations_annotation_change", args=[self.annotation.pk]))
        with self.page.expect_navigation():
            self.page.get_by_role("link", name="Place it again…").click()
        quote = "Корея, 조선"
        self.drag_select(quote, self.page)
        self.assert_form_holds(self.page, quote)
        with self.page.expect_navigation():
            self.page.get_by_role("button", name="Place here").click()
        expect(self.page.locator("ul.messagelist li")).to_have_text(f"Placed again on “{quote}”.")
        self.assert_placed(quote)
        self.assertEqual(Annotation.history.filter(id=self.annotation.pk).first().history_user, curator)
