"""The curators' review queue in the admin, in a real browser: publish, send back, and what others then see.

The browser, the skip rule and the error collector (any JavaScript, console/CSP or unexpected HTTP error fails
the test) are in base.py.
"""

from .base import BrowserTestCase, expect  # first: the skip rule

import re  # noqa: E402

import pytest  # noqa: E402
from django.urls import reverse  # noqa: E402

from annotations import writes  # noqa: E402
from annotations.models import Annotation  # noqa: E402

from ..factories import make_annotation, make_provision, make_treaty, make_user  # noqa: E402

pytestmark = pytest.mark.browser

TEXT = (
    "In the event that one of the Parties is subjected to an armed attack by an individual country or several "
    "countries and thus finds itself in a state of war, the other Party shall immediately provide military and "
    "other assistance with all means in its possession."
)
QUOTE = "and thus finds itself in a state of war"
CHANGELIST = reverse("admin:annotations_annotation_changelist")
PUBLISH = "Publish selected annotations"
SEND_BACK = "Send back to their authors (with the reason typed above)"
REASON = "Quote the Russian text as well: the two renderings differ."


class ReviewQueueTests(BrowserTestCase):
    def setUp(self):
        super().setUp()
        self.treaty = make_treaty(slug="t", short_title="Partnership Treaty")
        self.provision = make_provision(self.treaty, number=4, text=TEXT)
        self.analyst = make_user("ana")
        self.curator = make_user("cora", role="Curators", is_staff=True)
        start = TEXT.index(QUOTE)
        self.annotation = make_annotation(
            self.provision, self.analyst, start, start + len(QUOTE), body="Only a **state of war** triggers it."
        )
        self.public_url = self.provision.get_absolute_url()
        self.workspace_url = reverse("annotations:workspace", args=["t", "art-4"])

    # Helpers

    def row(self, annotation, page=None):
        page = page or self.page
        return page.locator("#result_list tbody tr", has=page.locator(f"input[value='{annotation.pk}']"))

    def run_action(self, annotations, action, reason=None, page=None):
        """Tick the annotations' rows, choose the action (and type a reason), run it; returns the message."""
        page = page or self.page
        for annotation in annotations:
            self.row(annotation, page).locator("input[name=_selected_action]").check()
        page.locator("#changelist-form select[name=action]").select_option(label=action)
        if reason is not None:
            page.locator("#changelist-form .actions").get_by_role("textbox", name=re.compile("^Reason")).fill(reason)
        with page.expect_navigation():
            # The action bar's submit button: "Run" since Django 6.1, "Go" before.
            page.locator("#changelist-form .actions").get_by_role("button", name=re.compile("^(Run|Go)$")).click()
        return page.locator("ul.messagelist li")

    def public_page(self):
        """The provision's public page as an anonymous visitor sees it, in a context of its own."""
        page = self.new_page()
        page.goto(self.public_url)
        expect(page.get_by_role("heading", name="Published annotations")).to_be_visible()
        return page

    def workspace_card(self, user):
        page = self.new_page()
        self.log_in(user, page)
        page.goto(self.workspace_url)
        return page.locator(f"#annotation-{self.annotation.pk}")

    # Tests

    def test_submit_publish_then_send_back(self):
        """Submitted from the workspace, published from the queue, sent back with a reason the author then reads."""
        card = self.workspace_card(self.analyst)
        card.get_by_role("button", name="Submit for publication").click()
        expect(card.locator(".review")).to_have_text("Awaiting review")
        expect(card.get_by_role("button", name="Submit for publication")).to_have_count(0)
        card.page.close()
        expect(self.public_page().locator(f"#annotation-{self.annotation.pk}")).to_have_count(0)

        page = self.page
        page.goto("/admin/login/")
        page.get_by_label("Username").fill("cora")
        page.get_by_label("Password").fill("a-long-test-password")
        page.get_by_role("button", name="Log in").click()
        expect(page.locator("#user-tools")).to_contain_text("cora")
        page.goto(CHANGELIST)
        page.locator("#changelist-filter").get_by_role("link", name="Awaiting review", exact=True).click()
        expect(page).to_have_url(re.compile(r"[?&]review=submitted(&|$)"))
        expect(page.locator("#result_list tbody tr")).to_have_count(1)
        expect(self.row(self.annotation)).to_contain_text(QUOTE)
        expect(self.row(self.annotation)).to_contain_text("Article 4")

        message = self.run_action([self.annotation], PUBLISH)
        expect(message).to_have_text("1 published.")
        expect(message).not_to_have_class(re.compile(r"\b(error|warning)\b"))
        # Published, it has left the queue.
        expect(page).to_have_url(re.compile(r"[?&]review=submitted(&|$)"))
        expect(page.locator("#result_list")).to_have_count(0)
        self.annotation.refresh_from_db()
        self.assertEqual((self.annotation.visibility, self.annotation.review), ("public", "published"))

        public = self.public_page()
        article = public.locator(f"article#annotation-{self.annotation.pk}")
        expect(article.locator(".annotation-body")).to_have_text("Only a state of war triggers it.")
        expect(public.locator(f"mark.hl#hl-{self.annotation.pk}")).to_have_text(QUOTE)
        public.close()

        page.locator("#changelist-filter").get_by_role("link", name="Published", exact=True).click()
        expect(self.row(self.annotation)).to_be_visible()
        message = self.run_action([self.annotation], SEND_BACK, reason=REASON)
        expect(message).to_have_text("1 sent back.")
        self.annotation.refresh_from_db()
        self.assertEqual((self.annotation.review, self.annotation.review_note), ("returned", REASON))

        card = self.workspace_card(self.analyst)
        expect(card.locator(".review")).to_have_text("Sent back")
        expect(card.locator(".review-note")).to_have_text(f"Sent back by a curator: {REASON}")
        expect(card.get_by_role("button", name="Submit for publication")).to_be_visible()
        # Sent back, it is no longer public.
        expect(self.public_page().locator(f"#annotation-{self.annotation.pk}")).to_have_count(0)

    def test_send_back_needs_a_reason_and_touches_only_the_rows_ticked(self):
        """Send back without a reason is refused with a message; with one, only the ticked row leaves the queue."""
        other = make_annotation(self.provision, self.analyst, 0, len("In the event"), body="Another note.")
        for annotation in (self.annotation, other):
            writes.submit(annotation.pk, by=self.analyst)
        self.log_in(self.curator)
        page = self.page
        page.goto(f"{CHANGELIST}?review=submitted")
        expect(page.locator("#result_list tbody tr")).to_have_count(2)

        message = self.run_action([self.annotation], SEND_BACK, reason="")
        expect(message).to_have_text("Say why in the reason box: the author will read it.")
        expect(message).to_have_class(re.compile(r"\berror\b"))
        self.assertEqual(Annotation.objects.filter(review="submitted").count(), 2)

        expect(page.locator("#result_list tbody tr")).to_have_count(2)
        message = self.run_action([self.annotation], SEND_BACK, reason=REASON)
        expect(message).to_have_text("1 sent back.")
        expect(page.locator("#result_list tbody tr")).to_have_count(1)
        expect(self.row(other)).to_contain_text("In the event")
        other.refresh_from_db()
        self.annotation.refresh_from_db()
        self.assertEqual((other.review, other.review_note), ("submitted", ""))
        self.assertEqual((self.annotation.review, self.annotation.review_note), ("returned", REASON))
        expect(self.workspace_card(self.analyst).locator(".review-note")).to_contain_text(REASON)
