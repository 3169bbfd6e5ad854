"""The public reader in a real browser: search as you type, permalinks, and pages free of script errors.

Each test loads the shipped corpus (the DPRK–Russia treaty and its five commentaries). The browser, the skip
rule and the error collector (any JavaScript, console/CSP or unexpected HTTP error fails the test) are in
base.py.
"""

from .base import IS_TARGET, BrowserTestCase, expect  # first: the skip rule

import re  # noqa: E402
from urllib.parse import parse_qs, urlsplit  # noqa: E402

import pytest  # noqa: E402
from django.urls import reverse  # noqa: E402

from annotations.models import Annotation, Tag  # noqa: E402
from treaty_app.importing import load_corpus  # noqa: E402
from treaty_app.models import ExcerptLink, Treaty  # noqa: E402

from ..factories import make_annotation, make_user  # noqa: E402

pytestmark = pytest.mark.browser

QUOTE = "and thus finds itself in a state of war"
SEARCH_URL = reverse("reader:search")
# The query first, its spaces as + (a form's GET) or %20 (HTMX's pushed URL); the empty filters may follow.
STATE_OF_WAR_URL = re.compile(r"/search/\?q=state(\+|%20)of(\+|%20)war(&|$)")


class ReaderTestCase(BrowserTestCase):
    def setUp(self):
        super().setUp()
        load_corpus()
        self.treaty = Treaty.objects.get()
        self.article_4 = self.treaty.provisions.get(slug="art-4")
        self.author = make_user("ana")

    def publish(self, words, body, provision=None, **fields):
        """A published annotation on the first occurrence of `words` in the provision's (Article 4's) wording.

        Article 4's wording is two quoted passages, two renderings of the same sentence: the first one is used."""
        provision = provision or self.article_4
        start = provision.text.index(words)
        return make_annotation(
            provision, self.author, start, start + len(words), body=body,
            visibility=Annotation.Visibility.PUBLIC, review=Annotation.Review.PUBLISHED, **fields,
        )

    def results_for(self, provision_label, page=None):
        """The group of search results listed under a provision."""
        page = page or self.page
        heading = page.get_by_role("heading", level=2, name=re.compile(rf"^{re.escape(provision_label)}(?!\d)"))
        return page.locator("#search-results section.search-group", has=heading)

    def assert_is_target(self, locator):
        """The element is the document's :target, in view, and the :target outline is drawn around it."""
        expect(locator).to_be_in_viewport()
        self.assertTrue(locator.evaluate(IS_TARGET), "the element is not :target")
        self.assertEqual(locator.evaluate("(element) => getComputedStyle(element).outlineStyle"), "solid")

    def query_of(self, url):
        return parse_qs(urlsplit(url).query).get("q")


class SearchTests(ReaderTestCase):
    def test_search_as_you_type_then_back(self):
        """Typing without Enter swaps results in place and pushes ?q=; Back restores the whole earlier page."""
        page = self.page
        page.goto(SEARCH_URL)
        expect(page.locator("#search-results .search-hint")).to_be_visible()
        navigations = self.watch_navigation()
        requests = []
        page.on("request", lambda request: request.url.startswith(self.live_server_url + SEARCH_URL)
                and requests.append(request))

        page.locator("#search-q").click()
        page.keyboard.type("state of war", delay=30)  # no Enter: the input's own trigger searches
        article_4 = self.results_for("Article 4")
        expect(article_4).to_be_visible()
        expect(article_4.locator(".search-hit-wording .hit-snippet mark").first).to_be_visible()
        marked = article_4.locator(".hit-snippet mark").all_inner_texts()
        self.assertTrue({word.lower() for word in marked} & {"state", "war"}, marked)
        expect(page.locator("#search-results .search-count")).to_contain_text("for “state of war”")
        expect(page).to_have_url(STATE_OF_WAR_URL)
        expect(page).to_have_title("“state of war” · Search · Glossa")
        expect(page.locator("body title")).to_have_count(0)
        # Debounced: a search was sent once the typing stopped, not on every one of the 12 key presses.
        self.assertTrue(requests)
        self.assertLess(len(requests), 6, [r.url for r in requests])
        self.assertTrue(all(r.headers.get("hx-request") == "true" for r in requests))
        self.assertEqual(self.query_of(requests[-1].url), ["state of war"])

        page.keyboard.press("ControlOrMeta+a")
        page.keyboard.press("Backspace")
        page.keyboard.type("zyxwvut", delay=30)
        expect(page.locator("#search-results .search-empty")).to_have_text(re.compile(r"^Nothing found for “zyxwvut”"))
        expect(page.locator("#search-results section.search-group")).to_have_count(0)
        expect(page).to_have_url(re.compile(r"/search/\?q=zyxwvut(&|$)"))
        expect(page).to_have_title("“zyxwvut” · Search · Glossa")
        self.assert_not_navigated(navigations, url_may_change=True)
        self.assertEqual([self.query_of(url) for url in navigations][-1], ["zyxwvut"])
        self.assertIn(["state of war"], [self.query_of(url) for url in navigations])

        # htmx keeps no page in its history cache: it asks the server for the whole page again.
        restore = lambda request: request.headers.get("hx-history-restore-request") == "true"  # noqa: E731
        with page.expect_request(restore) as restored:
            page.go_back()
        self.assertEqual(self.query_of(restored.value.url), ["state of war"])
        expect(page).to_have_url(STATE_OF_WAR_URL)
        expect(self.results_for("Article 4")).to_be_visible()
        # The whole page came back, not the results fragment alone.
        expect(page.locator("header.site-header")).to_be_visible()
        expect(page.get_by_role("heading", level=1)).to_have_text("Search")
        expect(page.locator("#search-q")).to_have_value("state of war")
        expect(page.locator("#search-results .search-empty")).to_have_count(0)
        expect(page).to_have_title(re.compile(r"^“state of war” · Search"))
        # It still searches as you type.
        page.locator("#search-q").fill("")
        page.locator("#search-q").press_sequentially("zyxwvut", delay=30)
        expect(page.locator("#search-results .search-empty")).to_be_visible()

    def test_search_without_javascript(self):
        """With JavaScript off, the form's GET renders the results page on the server."""
        page = self.page = self.new_page(java_script_enabled=False)
        page.goto(SEARCH_URL)
        page.get_by_label("Search the wording, the commentary and the annotations").fill("state of war")
        with page.expect_navigation():
            page.get_by_role("button", name="Search", exact=True).click()
        self.assertEqual(self.query_of(page.url), ["state of war"])
        expect(page.locator("header.site-header")).to_be_visible()
        expect(page.locator("#search-results .search-count")).to_contain_text("for “state of war”")
        article_4 = self.results_for("Article 4")
        expect(article_4.locator(".search-hit-wording .hit-snippet mark").first).to_be_visible()
        expect(page.locator("#search-q")).to_have_value("state of war")

    def test_enter_in_the_search_box_sends_one_search(self):
        """Enter in the box (after typing has searched) searches once more, and nothing is reported on the console."""
        page = self.page
        page.goto(SEARCH_URL)
        page.locator("#search-q").press_sequentially("state of war", delay=30)
        expect(self.results_for("Article 4")).to_be_visible()
        requests = []
        page.on("request", lambda request: request.url.startswith(self.live_server_url + SEARCH_URL)
                and requests.append(request.url))
        page.locator("#search-q").press("Enter")
        expect(self.results_for("Article 4")).to_be_visible()
        page.wait_for_timeout(500)  # past the input's 250 ms delay: any other search has been sent by now
        page.evaluate("0")
        problems, self.problems = self.problems, []  # checked here, so that the test fails in one place
        self.assertEqual((len(requests), problems), (1, []), requests)


class PermalinkTests(ReaderTestCase):
    def setUp(self):
        super().setUp()
        # Notes on words before QUOTE, long enough to push the annotation on QUOTE below the fold.
        self.fillers = [
            self.publish(words, f"Filler on “{words}”.\n\n" + "A long comment. " * 60)
            for words in ["In the event that", "subjected to an armed attack", "individual country"]
        ]
        self.annotation = self.publish(QUOTE, "The **casus foederis**: a state of war, not any attack.")
        self.url = self.article_4.get_absolute_url()
        last = (
            ExcerptLink.objects.approved().filter(provision=self.article_4)
            .order_by("excerpt__source__published_on", "excerpt__source_id", "excerpt__start").last()
        )
        self.excerpt = last.excerpt  # the last one listed in the commentary, at the bottom of the page

    def test_annotation_and_excerpt_permalinks(self):
        """#annotation-<pk> and #excerpt-<pk> open the page scrolled to that note or excerpt, outlined as :target."""
        page = self.page
        page.goto(self.url)
        article = page.locator(f"article#annotation-{self.annotation.pk}")
        excerpt = page.locator(f"blockquote#excerpt-{self.excerpt.pk}")
        expect(article).to_contain_text("The casus foederis")
        # Without a fragment both are below the fold, so being in view below means the browser scrolled there.
        expect(article).not_to_be_in_viewport()
        expect(excerpt).not_to_be_in_viewport()

        for fragment, selector in [
            (f"annotation-{self.annotation.pk}", "article"),
            (f"excerpt-{self.excerpt.pk}", "blockquote"),
        ]:
            with self.subTest(fragment):
                page = self.new_page()
                page.goto(f"{self.url}#{fragment}")
                target = page.locator(f"{selector}#{fragment}")
                self.assert_is_target(target)
                self.assertEqual(page.locator(":target").count(), 1)

    def test_marker_and_quote_lead_to_each_other(self):
        """The numbered marker in the wording leads to the note; the note's quote leads back to the words."""
        page = self.page
        page.goto(self.url)
        pk = self.annotation.pk
        navigations = self.watch_navigation()
        mark = page.locator(f"mark.hl#hl-{pk}")
        expect(mark).to_have_text(QUOTE)
        marker = page.locator(f"#wording a.hl-ref[href='#annotation-{pk}']")
        # The number is drawn by the CSS, so the wording's text stays the stored text; the name is the label's.
        expect(marker).to_have_text("")
        expect(marker).to_have_accessible_name(f"Annotation {pk}")
        self.assertEqual(marker.evaluate("(a) => getComputedStyle(a, '::after').content"), f'"{pk}"')
        marker.click()
        expect(page).to_have_url(f"{self.live_server_url}{self.url}#annotation-{pk}")
        article = page.locator(f"article#annotation-{pk}")
        self.assert_is_target(article)
        expect(mark).not_to_be_in_viewport()

        article.locator(".annotation-quote a").click()
        expect(page).to_have_url(f"{self.live_server_url}{self.url}#hl-{pk}")
        self.assert_is_target(mark)
        expect(article).not_to_be_in_viewport()
        # Fragment links within the page: no document was loaded.
        self.assert_not_navigated(navigations, url_may_change=True)


    def test_printed_page_keeps_the_numbers(self):
        """Printed, the page still shows the annotation and attribution numbers, drawn beside the words."""
        page = self.page
        page.goto(self.url)
        page.emulate_media(media="print")
        pk = self.annotation.pk
        marker = page.locator(f"#wording a.hl-ref[href='#annotation-{pk}']")
        expect(marker).to_be_visible()
        self.assertEqual(marker.evaluate("(a) => getComputedStyle(a, '::after').content"), f'"{pk}"')
        attribution = page.locator("#wording a.passage-ref[href='#attribution-1']")
        expect(attribution).to_be_visible()
        self.assertEqual(attribution.evaluate("(a) => getComputedStyle(a, '::after').content"), '"[1]"')
        expect(page.locator("#attribution-1")).to_contain_text("Quoted by Konstantin Asmolov")


class PublicPagesTests(ReaderTestCase):
    def test_reader_pages_have_no_script_errors(self):
        """Treaty page with both heat maps, a tag, a provision, a source and search: CSP enforced, nothing reported."""
        threshold = Tag.objects.create(name="legal-threshold", slug="legal-threshold", colour="#3366cc")
        assistance = Tag.objects.create(name="military-assistance", slug="military-assistance", colour="#cc3333")
        note = self.publish(QUOTE, "Only a *state of war* triggers it.", tags=[threshold, assistance])
        self.publish("armed attack", "An armed attack, as in the Charter.", tags=[threshold])
        page = self.page
        loads = []
        page.on("response", lambda r: r.request.is_navigation_request() and r.request.frame.parent_frame is None
                and loads.append(r))

        page.goto(self.treaty.get_absolute_url())
        expect(page.get_by_role("heading", level=1)).to_have_text(self.treaty.title)
        expect(page.locator("table.heatmap-sources tbody tr").first).to_be_visible()
        tags_map = page.locator("table.heatmap-tags")
        expect(tags_map.locator("thead th a")).to_have_text(["legal-threshold", "military-assistance"])
        row = tags_map.locator("tbody tr", has=page.get_by_role("rowheader", name="Article 4", exact=True))
        expect(row.locator("td")).to_have_text(["2", "1", "Agree / split on Article 4"])

        row.locator("td a").first.click()  # the 2 annotations on Article 4 tagged legal-threshold
        expect(page.get_by_role("heading", level=1)).to_have_text("Tag: legal-threshold")
        expect(page.locator(".filter-notice")).to_contain_text("on Article 4")
        expect(page.locator("li.tag-annotation")).to_have_count(2)

        page.locator(f"#tagged-{note.pk}").get_by_role("link", name="Link to this annotation").click()
        expect(page).to_have_url(f"{self.live_server_url}{self.article_4.get_absolute_url()}#annotation-{note.pk}")
        self.assert_is_target(page.locator(f"article#annotation-{note.pk}"))
        expect(page.locator(f"mark.hl#hl-{note.pk}")).to_have_text(QUOTE)

        in_context = page.locator("blockquote.excerpt").first
        excerpt_id = in_context.get_attribute("id")
        in_context.get_by_role("link", name="In context").click()
        expect(page).to_have_url(re.compile(rf"/sources/[\w-]+/#{excerpt_id}$"))
        self.assert_is_target(page.locator(f"mark#{excerpt_id}"))

        page.locator("header.site-header").get_by_role("link", name="Search").click()
        page.locator("#search-q").press_sequentially("state of war", delay=30)
        annotation_hit = self.results_for("Article 4").locator(".search-hit-annotation", has_text="triggers")
        expect(annotation_hit.get_by_role("link", name="This annotation")).to_have_attribute(
            "href", f"{self.article_4.get_absolute_url()}#annotation-{note.pk}"
        )

        self.assertEqual(len(loads), 5, [r.url for r in loads])
        for response in loads:
            with self.subTest(response.url):
                self.assertEqual(response.status, 200)
                # Enforced, and strict: no inline script or style could run or apply unnoticed (a page
                # that uses the nonce, for htmx's script tag, names it for styles too: only an element
                # carrying it applies, the workspace's tag colours).
                policy = response.headers.get("content-security-policy", "")
                self.assertRegex(policy, r"(^|; )script-src 'self'( 'nonce-[^']+')?;")
                self.assertRegex(policy, r"(^|; )style-src 'self'( 'nonce-[^']+')?;")
                self.assertNotIn("unsafe", policy)
