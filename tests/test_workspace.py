import re
import time
from datetime import timedelta
from unittest import mock

from django.core.cache import caches
from django.db import connection
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from annotations import writes
from annotations.models import Annotation, AssessmentField, AssessmentValue, Tag
from treaty_app.models import ExcerptLink, LanguageVersion, Provision

from .factories import annotation_row, link, make_annotation, make_annotations, make_excerpt, make_provision, make_source, make_treaty, make_user
from .pagetext import WORDING, WORDING_SPANS, text_content

TEXT = (
    "In the event that one of the Parties is subjected to an armed attack by an individual country or several "
    "countries and thus finds itself in a state of war, the other Party shall immediately provide military and "
    "other assistance with all means in its possession."
)
QUOTE = "and thus finds itself in a state of war"
RUSSIAN = "Стороны незамедлительно оказывают военную и иную помощь."
HTMX = {"HX-Request": "true"}


class WorkspaceTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.treaty = make_treaty(slug="t")
        cls.provision = make_provision(cls.treaty, number=4, text=TEXT)
        cls.analyst = make_user("ana")
        cls.other = make_user("bob")
        cls.curator = make_user("cora", role="Curators", is_staff=True)
        cls.outsider = make_user("olga", role=None)
        cls.tag = Tag.objects.create(name="military-assistance", slug="military-assistance", colour="#cc3333")
        cls.url = reverse("annotations:workspace", args=["t", "art-4"])
        cls.create_url = reverse("annotations:create", args=["t", "art-4"])

    def setUp(self):
        self.client.force_login(self.analyst)

    def create_data(self, **overrides):
        start = TEXT.index(QUOTE)
        return {"exact": QUOTE, "start": start, "end": start + len(QUOTE), "body": "Why this matters.",
                "visibility": "team", "tags": [self.tag.pk]} | overrides


class AccessTests(WorkspaceTestCase):
    def test_login_required(self):
        """Anonymous visitors are sent to the login page."""
        self.client.logout()
        response = self.client.get(self.url)
        self.assertRedirects(response, f"{reverse('login')}?next={self.url}")

    def test_only_analysts_and_curators(self):
        """A logged-in user with no role gets a 403, not the workspace."""
        self.client.force_login(self.outsider)
        self.assertEqual(self.client.get(self.url).status_code, 403)
        self.assertEqual(self.client.post(self.create_url, self.create_data()).status_code, 403)

    def test_csrf_is_enforced_for_htmx_posts(self):
        """An HTMX post without the CSRF token is refused."""
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.analyst)
        response = client.post(self.create_url, self.create_data(), headers=HTMX)
        self.assertEqual(response.status_code, 403)
        self.assertFalse(Annotation.objects.exists())

    def test_workspace_page_carries_the_csrf_header_for_htmx(self):
        """The page sends the CSRF token as a header on every HTMX request."""
        response = self.client.get(self.url)
        self.assertContains(response, "data-hx-headers='{\"X-CSRFToken\": \"")


class TagColourTests(WorkspaceTestCase):
    def test_every_workspace_page_holds_the_tag_colours_under_its_nonce(self):
        """Each tag's colour is a rule in the page's own <style>, whose nonce is the one the page's CSP
        allows; a colour changed shows on the next page (nothing caches the rules)."""
        note = make_annotation(self.provision, self.analyst, 0, 12, body="Tagged.", tags=[self.tag])
        pages = [self.url, reverse("annotations:home"), reverse("annotations:edit", args=[note.pk]),
                 reverse("annotations:reply", args=[note.pk])]
        for colour in ("#cc3333", "#2255aa"):
            Tag.objects.filter(pk=self.tag.pk).update(colour=colour)
            for page in pages:
                with self.subTest(page=page, colour=colour):
                    response = self.client.get(page)
                    self.assertEqual(response.status_code, 200)
                    styles = re.findall(r'<style nonce="([^"]+)">(.*?)</style>', response.content.decode(), re.S)
                    self.assertEqual(len(styles), 1)
                    nonce, rules = styles[0]
                    style_src = next(part for part in response["Content-Security-Policy"].split(";")
                                     if part.strip().startswith("style-src"))
                    self.assertIn(f"'nonce-{nonce}'", style_src.split())
                    self.assertIn(f".tag-military-assistance {{ --tag-colour: {colour}; }}", rules)


class CreateTests(WorkspaceTestCase):
    def test_plain_post_redirects(self):
        """Without JavaScript, a valid form posts and redirects to the new card."""
        response = self.client.post(self.create_url, self.create_data())
        annotation = Annotation.objects.get()
        self.assertRedirects(response, f"{self.url}#annotation-{annotation.pk}")
        self.assertEqual((annotation.exact, annotation.author, annotation.text_version), (QUOTE, self.analyst, 1))
        self.assertEqual(annotation.prefix, TEXT[annotation.start - 32 : annotation.start])
        self.assertEqual(list(annotation.tags.all()), [self.tag])

    def test_htmx_post_returns_fragment_with_card_and_highlight(self):
        """With HTMX, the response is the workspace fragment with the new card and its highlight."""
        response = self.client.post(self.create_url, self.create_data(), headers=HTMX)
        annotation = Annotation.objects.get()
        self.assertEqual(response.status_code, 200)
        self.assertNotContains(response, "<html")
        self.assertContains(response, f'id="annotation-{annotation.pk}"')
        self.assertContains(response, f'id="hl-{annotation.pk}"')
        self.assertContains(response, f">{QUOTE}</mark>", html=False)

    def test_quote_mismatch_is_422_with_message(self):
        """Offsets that do not hold the quote are refused with a clear message; nothing is saved."""
        response = self.client.post(self.create_url, self.create_data(start=0, end=len(QUOTE)), headers=HTMX)
        self.assertEqual(response.status_code, 422)
        self.assertContains(response, "no longer match", status_code=422)
        self.assertEqual(response.context["form"].errors.as_data()["__all__"][0].code, "quote_mismatch")
        self.assertFalse(Annotation.objects.exists())

    def test_out_of_range_is_422(self):
        """Offsets past the end of the text are refused."""
        response = self.client.post(self.create_url, self.create_data(start=5000, end=5039))
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.context["form"].errors.as_data()["__all__"][0].code, "out_of_range")

    def test_without_javascript_the_words_are_found(self):
        """Typed words that occur once are located by the server."""
        self.client.post(self.create_url, self.create_data(start="", end=""))
        annotation = Annotation.objects.get()
        self.assertEqual(TEXT[annotation.start : annotation.end], QUOTE)

    def test_ambiguous_typed_words_are_refused(self):
        """Typed words that occur several times ask for more context."""
        response = self.client.post(self.create_url, self.create_data(exact="the", start="", end=""))
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.context["form"].errors.as_data()["__all__"][0].code, "ambiguous")

    def test_empty_note_keeps_the_draft(self):
        """A missing note is a 422 that keeps the selection in the form."""
        response = self.client.post(self.create_url, self.create_data(body=""))
        self.assertEqual(response.status_code, 422)
        self.assertContains(response, QUOTE, status_code=422)

    def test_new_tags_are_created(self):
        """Analysts may create tags while annotating."""
        self.client.post(self.create_url, self.create_data(new_tags="legal-threshold, Sanctions"))
        annotation = Annotation.objects.get()
        self.assertEqual(sorted(annotation.tags.values_list("slug", flat=True)),
                         ["legal-threshold", "military-assistance", "sanctions"])

    def test_public_visibility_cannot_be_chosen(self):
        """Only a curator's publication makes an annotation public."""
        response = self.client.post(self.create_url, self.create_data(visibility="public"))
        self.assertEqual(response.status_code, 422)

    def test_markdown_is_sanitised(self):
        """Script in a note never reaches the page."""
        self.client.post(self.create_url, self.create_data(body="**bold** <script>alert(1)</script> [x](javascript:alert(2))"))
        response = self.client.get(self.url)
        self.assertContains(response, "<strong>bold</strong>")
        self.assertNotContains(response, "<script>alert")
        self.assertNotContains(response, "javascript:alert")

    def test_annotate_an_excerpt(self):
        """An analyst may annotate a commentary excerpt shown beside the provision."""
        source = make_source("A claim that Article 4 means automatic intervention.")
        excerpt = make_excerpt(source, 0, len(source.body))
        link(excerpt, self.provision)
        start = source.body.index("automatic intervention")
        data = {"exact": "automatic intervention", "start": start, "end": start + 22, "excerpt": excerpt.pk,
                "body": "Disputed.", "visibility": "team"}
        response = self.client.post(self.create_url, data, headers=HTMX)
        self.assertEqual(response.status_code, 200, response.content[:500])
        annotation = Annotation.objects.get()
        self.assertEqual((annotation.excerpt, annotation.provision), (excerpt, None))
        self.assertContains(response, f'id="hl-{annotation.pk}"')

    def test_a_note_on_an_excerpt_not_beside_the_provision_is_refused(self):
        """An excerpt with no approved link to this provision (proposed, or linked elsewhere) or no excerpt
        at all: 422 with the reason, with HTMX and without, and nothing saved."""
        source = make_source("A claim that Article 4 means automatic intervention.")
        proposed, elsewhere = make_excerpt(source, 0, len(source.body)), make_excerpt(source, 2, len(source.body))
        link(proposed, self.provision, state=ExcerptLink.State.PROPOSED)
        link(elsewhere, make_provision(self.treaty, number=5, text=TEXT))
        start = source.body.index("automatic intervention")
        for excerpt_id in (proposed.pk, elsewhere.pk, elsewhere.pk + 1000):
            for headers in (HTMX, {}):
                with self.subTest(excerpt=excerpt_id, htmx=bool(headers)):
                    data = {"exact": "automatic intervention", "start": start, "end": start + 22,
                            "excerpt": excerpt_id, "body": "Disputed.", "visibility": "team"}
                    response = self.client.post(self.create_url, data, headers=headers)
                    self.assertContains(response, "That commentary excerpt is not shown beside this provision.",
                                        status_code=422)
        self.assertFalse(Annotation.objects.exists())

    def test_wording_and_excerpt_elements_hold_the_stored_text(self):
        """#wording and #excerpt-<pk> have the provision's and the excerpt's text as their text, highlights
        and numbered markers included, so that workspace.js counts offsets in the string the server checks."""
        provision = make_provision(self.treaty, number=90, text=WORDING, coverage="full")
        for words in WORDING_SPANS:
            start = WORDING.index(words)
            make_annotation(provision, self.analyst, start, start + len(words))
        source = make_source("Статья 4 🇰🇵 (조약) means automatic intervention, some say.")
        excerpt = make_excerpt(source, 0, len(source.body))
        link(excerpt, provision)
        for words in ["🇰🇵 (조약)", "automatic intervention"]:
            start = source.body.index(words)
            Annotation.objects.create(excerpt=excerpt, author=self.analyst, body="On the excerpt.", visibility="team",
                                      start=start, end=start + len(words), exact=words)
        response = self.client.get(reverse("annotations:workspace", args=["t", "art-90"]))
        self.assertEqual(response.content.decode().count('class="hl-ref"'), len(WORDING_SPANS) + 2)
        self.assertEqual(text_content(response.content, "wording"), WORDING)
        self.assertEqual(text_content(response.content, f"excerpt-{excerpt.pk}"), source.body)

    def test_an_unlinked_excerpt_is_refused(self):
        """An excerpt not approved for this provision cannot be the target."""
        source = make_source("A claim that Article 4 means automatic intervention.")
        excerpt = make_excerpt(source, 0, len(source.body))
        link(excerpt, self.provision, state=ExcerptLink.State.PROPOSED)
        start = source.body.index("automatic")
        data = {"exact": "automatic", "start": start, "end": start + 9, "excerpt": excerpt.pk, "body": "x", "visibility": "team"}
        self.assertEqual(self.client.post(self.create_url, data).status_code, 422)


class EditDeleteTests(WorkspaceTestCase):
    def setUp(self):
        super().setUp()
        start = TEXT.index(QUOTE)
        self.annotation = make_annotation(self.provision, self.analyst, start, start + len(QUOTE), body="First.")
        self.edit_url = reverse("annotations:edit", args=[self.annotation.pk])

    def test_edit_in_place(self):
        """An HTMX edit returns the workspace with the new text; the version goes up."""
        form = self.client.get(self.edit_url, headers=HTMX)
        self.assertContains(form, 'name="version" value="1"')
        response = self.client.post(self.edit_url, {"body": "Second.", "visibility": "private", "version": 1}, headers=HTMX)
        self.assertContains(response, "<p>Second.</p>")
        self.annotation.refresh_from_db()
        self.assertEqual((self.annotation.body, self.annotation.version, self.annotation.visibility), ("Second.", 2, "private"))

    def test_stale_edit_is_409_and_keeps_the_draft(self):
        """An edit made against an old version is refused with the current text shown and the draft kept."""
        self.client.post(self.edit_url, {"body": "Saved by another tab.", "visibility": "team", "version": 1})
        response = self.client.post(self.edit_url, {"body": "My draft.", "visibility": "team", "version": 1}, headers=HTMX)
        self.assertEqual(response.status_code, 409)
        self.assertContains(response, "Saved by another tab.", status_code=409)
        self.assertContains(response, "My draft.", status_code=409)
        self.assertEqual(response["HX-Retarget"], f"#annotation-{self.annotation.pk}")
        self.annotation.refresh_from_db()
        self.assertEqual(self.annotation.body, "Saved by another tab.")

    def test_only_the_author_edits(self):
        """Another analyst can neither edit nor delete the annotation."""
        self.client.force_login(self.other)
        self.assertEqual(self.client.post(self.edit_url, {"body": "x", "visibility": "team", "version": 1}).status_code, 403)
        self.assertEqual(self.client.post(reverse("annotations:delete", args=[self.annotation.pk])).status_code, 403)
        self.annotation.refresh_from_db()
        self.assertEqual(self.annotation.body, "First.")

    def test_delete_confirms_then_soft_deletes_and_undoes(self):
        """Delete asks first, hides the annotation, and the author can undo it."""
        delete_url = reverse("annotations:delete", args=[self.annotation.pk])
        confirm = self.client.get(delete_url, headers=HTMX)
        self.assertContains(confirm, "Delete this annotation?")
        self.client.post(delete_url, headers=HTMX)
        self.annotation.refresh_from_db()
        self.assertIsNotNone(self.annotation.deleted_at)
        page = self.client.get(self.url)
        self.assertNotContains(page, f'id="annotation-{self.annotation.pk}"')
        self.assertContains(page, "Undo")
        self.client.post(reverse("annotations:restore", args=[self.annotation.pk]))
        self.annotation.refresh_from_db()
        self.assertIsNone(self.annotation.deleted_at)

    def test_undo_expires(self):
        """After the undo window, restoring is refused with a 410 (a curator can still restore)."""
        Annotation.objects.filter(pk=self.annotation.pk).update(
            deleted_at=timezone.now() - timedelta(hours=1), deleted_by=self.annotation.author
        )
        response = self.client.post(reverse("annotations:restore", args=[self.annotation.pk]))
        self.assertEqual(response.status_code, 410)

    def test_curator_hides_any(self):
        """A curator can hide another analyst's annotation; an analyst cannot."""
        hide_url = reverse("annotations:hide", args=[self.annotation.pk])
        self.client.force_login(self.other)
        self.assertEqual(self.client.post(hide_url).status_code, 403)
        self.client.force_login(self.curator)
        self.client.post(hide_url)
        self.annotation.refresh_from_db()
        self.assertEqual(self.annotation.hidden_by, self.curator)
        self.assertNotContains(self.client.get(self.url), f'id="annotation-{self.annotation.pk}"')

    def test_reply(self):
        """Another analyst replies in place; the reply shows under the card."""
        self.client.force_login(self.other)
        reply_url = reverse("annotations:reply", args=[self.annotation.pk])
        self.assertContains(self.client.get(reply_url, headers=HTMX), 'name="body"')
        self.assertEqual(self.client.post(reply_url, {"body": ""}, headers=HTMX).status_code, 422)
        response = self.client.post(reply_url, {"body": "I disagree."}, headers=HTMX)
        self.assertContains(response, "I disagree.")
        reply = Annotation.objects.get(parent=self.annotation)
        self.assertEqual((reply.author, reply.start), (self.other, None))


class VisibilityAndFilterTests(WorkspaceTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.private = make_annotation(cls.provision, cls.analyst, 0, 6, body="Mine only.", visibility="private")
        cls.team = make_annotation(cls.provision, cls.other, 10, 20, body="Team note.", tags=[cls.tag])
        cls.overlap = make_annotation(cls.provision, cls.other, 15, 30, body="Overlapping.")

    def test_private_annotations_stay_private(self):
        """Another analyst never sees a private annotation."""
        self.client.force_login(self.other)
        response = self.client.get(self.url)
        self.assertNotContains(response, "Mine only.")
        self.assertContains(response, "Team note.")

    def test_overlapping_spans_render(self):
        """Overlapping annotations render as runs that name every annotation covering them."""
        response = self.client.get(self.url)
        self.assertContains(response, f'data-annotations="{self.team.pk} {self.overlap.pk}"')

    def test_filters_narrow_cards_and_highlights(self):
        """A tag filter keeps only matching cards and highlights, as a fragment for HTMX."""
        response = self.client.get(self.url, {"tag": self.tag.slug}, headers=HTMX)
        self.assertNotContains(response, "<html")
        self.assertContains(response, "Team note.")
        self.assertNotContains(response, "Overlapping.")
        self.assertNotContains(response, f'id="hl-{self.overlap.pk}"')
        self.assertEqual(response["Vary"].count("HX-Request"), 1)

    def test_the_author_filter_lists_whose_notes_the_viewer_may_read_here(self):
        """The author options: each author of a note the viewer may read on this wording or its
        excerpts, once, by name, whatever filter is chosen; not the author of another's private note, of
        a deleted or hidden note, of a reply, or of a note elsewhere."""
        excerpt = make_excerpt(make_source(body="The commentary on the article."), 4, 14)
        link(excerpt, self.provision)
        elsewhere = make_provision(self.treaty, number=5, text=TEXT)
        writer, replier, away = make_user("zed"), make_user("quinn"), make_user("al")
        annotation_row(excerpt=excerpt, author=writer, body="On the excerpt.", visibility="team", start=0, end=4,
                       exact=excerpt.text[:4])
        make_annotation(self.provision, make_user("xena"), 0, 4, body="Hers alone.", visibility="private")
        annotation_row(parent=self.team, author=replier, body="A reply.", visibility="team")
        make_annotation(elsewhere, away, 0, 4, body="Elsewhere.")
        make_annotation(self.provision, make_user("dee"), 0, 4, body="Deleted.", deleted_at=timezone.now())
        make_annotation(self.provision, make_user("hal"), 0, 4, body="Hidden.", hidden_at=timezone.now())

        def options(viewer, **query):
            self.client.force_login(viewer)
            html = self.client.get(self.url, query).content.decode()
            select = re.search(r'<select name="author">(.*?)</select>', html, re.S).group(1)
            return re.findall(r"<option(?: selected)?>([^<]+)</option>", select)

        self.assertEqual(options(self.analyst), ["ana", "bob", "zed"])
        self.assertEqual(options(self.analyst, author="zed"), ["ana", "bob", "zed"])
        self.assertEqual(options(self.other), ["bob", "zed"])

    def test_the_tag_filter_lists_every_tag_by_name_with_the_chosen_one_selected(self):
        """The tag options: every tag of the vocabulary, by name, its slug the value, its name escaped,
        the filtered one (and only it) selected."""
        Tag.objects.create(name="aid & arms <sic>", slug="aid-arms", colour="#123456")

        def options(**query):
            html = self.client.get(self.url, query).content.decode()
            return re.search(r'<select name="tag">(.*?)</select>', html, re.S).group(1)

        self.assertEqual(options(), '<option value="">any</option><option value="aid-arms">aid &amp; arms &lt;sic&gt;'
                                    '</option><option value="military-assistance">military-assistance</option>')
        self.assertEqual(options(tag="aid-arms").count(" selected"), 1)
        self.assertIn('<option value="aid-arms" selected>aid &amp; arms', options(tag="aid-arms"))

    def test_author_and_visibility_filters(self):
        """Author and visibility filters combine."""
        response = self.client.get(self.url, {"author": "bob", "visibility": "team"})
        self.assertContains(response, "Team note.")
        self.assertNotContains(response, "Mine only.")


    def test_a_highlight_takes_the_colour_of_its_first_tag_by_name_whatever_the_filter(self):
        """A note tagged "zeta" then "alpha" (alpha the newer tag, so first by name but not by key) is
        highlighted in alpha's colour, on the whole workspace and filtered on zeta; a note without
        tags has no tag colour."""
        zeta = Tag.objects.create(name="zeta", slug="zeta", colour="#112233")
        alpha = Tag.objects.create(name="alpha", slug="alpha", colour="#445566")
        note = make_annotation(self.provision, self.analyst, 40, 50, tags=[zeta, alpha])
        for query in ({}, {"tag": "zeta"}):
            with self.subTest(query=query):
                highlight = re.search(rf'<mark class="([^"]*)" id="hl-{note.pk}"', self.client.get(self.url, query).text)
                self.assertEqual(highlight[1].split(), ["hl", "depth-1", "tag-alpha"])
        untagged = re.search(rf'<mark class="([^"]*)" id="hl-{self.private.pk}"', self.client.get(self.url).text)
        self.assertNotIn("tag-", untagged[1])


class QueryCountTests(WorkspaceTestCase):
    def grow(self, count, excerpt):
        """`count` notes on the wording, a reply to every tenth, and a tenth as many on the excerpt."""
        notes = make_annotations(self.provision, self.other, count, tags=[self.tag])
        for note in notes[::10]:
            annotation_row(parent=note, author=self.analyst, body="A reply.", visibility="team")
        for _ in range(max(1, count // 10)):
            annotation_row(excerpt=excerpt, author=self.other, body="On the excerpt.", visibility="team",
                           exact=excerpt.text[:10], start=0, end=10)

    def measure(self):
        """(queries, ms, response) of one request for the workspace."""
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = self.client.get(self.url)
            elapsed = (time.perf_counter() - started) * 1000
        return len(queries), elapsed, response

    def test_workspace_queries_do_not_grow_with_annotations(self):
        """The workspace costs the same queries with 10 annotations as with 1,000, replies and notes on
        the commentary excerpt beside it included: the first request after they came (no card cached
        yet) and the next (every card cached, so none read whole: fewer queries). Figures printed."""
        source = make_source(body="A commentary on the article.\n\nIt has two paragraphs.")
        excerpt = make_excerpt(source, 0, len("A commentary on the article."))
        link(excerpt, self.provision)
        self.grow(10, excerpt)
        ten_cold, _, _ = self.measure()
        ten, ten_ms, _ = self.measure()
        self.grow(990, excerpt)
        thousand_cold, _, _ = self.measure()
        thousand, thousand_ms, response = self.measure()
        html = response.content.decode()
        # Every highlight (with its number), a page of cards on the wording, every card on the excerpt.
        self.assertEqual(html.count('class="hl-ref"'), 1000 + 100)
        self.assertEqual(html.count('data-annotation="'), 50 + 100)
        self.assertIn('href="?cards=2#cards-heading"', html)
        self.assertEqual(thousand_cold, ten_cold)
        self.assertEqual(thousand, ten)
        self.assertLess(ten, ten_cold, "cached cards were read whole")
        print(f"\nworkspace: 10 annotations {ten} queries {ten_ms:.0f} ms; "
              f"1,000 annotations {thousand} queries {thousand_ms:.0f} ms (first request {thousand_cold} queries)")


class WriteAnswerTests(WorkspaceTestCase):
    """An HTMX write answers with what changed (its card or a fresh form, and out of band the
    highlights and the count), never the whole workspace: the other cards are not in it."""

    def setUp(self):
        super().setUp()
        self.others = make_annotations(self.provision, self.other, 30)

    def assert_only(self, response, *, cards, highlights=True):
        html = response.content.decode()
        self.assertNotIn('id="workspace-body"', html)
        self.assertEqual(sorted(int(pk) for pk in re.findall(r'<li id="annotation-(\d+)" class="card', html)), sorted(cards))
        wording = ('<div id="wording" class="provision-text annotatable" data-target="provision" '
                   f'data-text-version="{self.provision.text_version}" data-hx-swap-oob="true">')
        self.assertEqual(wording in html, highlights, "highlights sent" if not highlights else "highlights missing")
        return html

    def test_create_answers_with_a_fresh_form_the_new_card_and_the_highlights(self):
        response = self.client.post(self.create_url, self.create_data(), headers=HTMX)
        created = Annotation.objects.get(body="Why this matters.")
        html = self.assert_only(response, cards=[created.pk])
        self.assertTrue(html.lstrip().startswith('<section id="annotation-form"'))
        self.assertIn('<ol data-hx-swap-oob="afterbegin:#cards">', html)
        self.assertIn('<span class="count" id="cards-count" data-hx-swap-oob="true">(31)</span>', html)
        self.assertIn(f'id="hl-{created.pk}"', html)

    def test_edit_submit_and_reply_answer_with_their_card(self):
        from annotations import writes

        start = TEXT.index(QUOTE)
        note = writes.create(author=self.analyst, target=self.provision, start=start, end=start + len(QUOTE),
                             exact=QUOTE, body="First.")
        edit_url = reverse("annotations:edit", args=[note.pk])

        def edit(query="", **fields):
            data = {"body": "Second.", "visibility": "team", "version": Annotation.objects.get(pk=note.pk).version}
            return self.client.post(edit_url + query, data | fields, headers=HTMX)

        # The words alone changed: the card, and no highlights (they are as they were).
        self.assertIn("Second.", self.assert_only(edit(), cards=[note.pk], highlights=False))
        # A tag colours the highlight: the card and the highlights, in the tag's colour.
        tagged = self.assert_only(edit(tags=[self.tag.pk]), cards=[note.pk])
        self.assertIn(f'<mark class="hl depth-1 tag-{self.tag.slug}" data-annotations="{note.pk}">', tagged)
        # Under a visibility filter, a note that leaves it takes its highlight with it.
        filtered = self.assert_only(edit("?visibility=team", visibility="private", tags=[self.tag.pk]), cards=[note.pk])
        self.assertNotIn(f'id="hl-{note.pk}"', filtered)
        # Submitted, a private note becomes the team's: its visibility changed, the highlights go again.
        submit = self.client.post(reverse("annotations:submit", args=[note.pk]), headers=HTMX)
        self.assertIn("Awaiting review", self.assert_only(submit, cards=[note.pk]))
        reply = self.client.post(reverse("annotations:reply", args=[self.others[0].pk]), {"body": "Agreed."}, headers=HTMX)
        self.assertIn("Agreed.", self.assert_only(reply, cards=[self.others[0].pk], highlights=False))

    def test_the_count_a_write_sends_is_the_pages_count(self):
        """The count an HTMX create or delete sends out of band is the one the page shows after it:
        notes on the wording (an adrift one too) and on the excerpt beside it, not replies, with and
        without a filter, for a write on the wording and one on the excerpt."""
        from annotations import writes

        source = make_source("A claim that Article 4 means automatic intervention.")
        excerpt = make_excerpt(source, 0, len(source.body))
        link(excerpt, self.provision)
        for words in ("A claim", "automatic intervention"):
            start = source.body.index(words)
            writes.create(author=self.other, target=excerpt, start=start, end=start + len(words), exact=words,
                          body="On the excerpt.", tags=[self.tag] if words == "A claim" else [])
        annotation_row(provision=self.provision, author=self.other, body="Adrift.", visibility="team",
                       exact="words gone", placement="orphaned")
        annotation_row(parent=self.others[0], author=self.other, body="A reply.", visibility="team")
        start = source.body.index("automatic")
        writes_on = {
            "wording": self.create_data(),
            "excerpt": {"exact": "automatic", "start": start, "end": start + 9, "excerpt": excerpt.pk,
                        "body": "Disputed.", "visibility": "team", "tags": [self.tag.pk]},
        }
        count = re.compile(r'<span class="count" id="cards-count"[^>]*>\(([^)]*)\)</span>')
        for query in ("", f"?tag={self.tag.slug}"):
            for target, data in writes_on.items():
                with self.subTest(target=target, query=query):
                    created = self.client.post(self.create_url + query, data, headers=HTMX)
                    self.assertEqual(created.status_code, 200, created.content[:300])
                    page = self.client.get(self.url + query).content.decode()
                    self.assertEqual(count.search(created.content.decode()).group(1), count.search(page).group(1))
                    note = Annotation.objects.latest("pk")
                    deleted = self.client.post(reverse("annotations:delete", args=[note.pk]) + query, headers=HTMX)
                    page = self.client.get(self.url + query).content.decode()
                    self.assertEqual(count.search(deleted.content.decode()).group(1), count.search(page).group(1))

    def test_delete_answers_with_nothing_for_the_card_and_the_undo_out_of_band(self):
        from annotations import writes

        note = writes.create(author=self.analyst, target=self.provision, start=0, end=6, exact=TEXT[:6], body="Gone soon.")
        response = self.client.post(reverse("annotations:delete", args=[note.pk]), headers=HTMX)
        html = self.assert_only(response, cards=[])
        self.assertIn('<div id="recently-deleted" data-hx-swap-oob="true">', html)
        self.assertIn("Undo", html)
        self.assertIn('<span class="count" id="cards-count" data-hx-swap-oob="true">(30)</span>', html)
        self.assertNotIn(f'id="hl-{note.pk}"', html)


class HomeTests(WorkspaceTestCase):
    """/workspace/: what waits for the analyst, what the team did, the provisions with their counts."""

    home_url = reverse("annotations:home")

    def setUp(self):
        super().setUp()
        start = TEXT.index(QUOTE)
        self.returned = make_annotation(self.provision, self.analyst, start, start + len(QUOTE), body="Sent back.",
                                        review=Annotation.Review.RETURNED, review_note="Name the article it contradicts.")
        self.submitted = make_annotation(self.provision, self.analyst, 0, 6, body="Waiting.", review=Annotation.Review.SUBMITTED)
        self.adrift = annotation_row(provision=self.provision, author=self.analyst, body="Lost.", visibility="team",
                                     placement=Annotation.Placement.ORPHANED, exact="gone words")
        self.by_bob = make_annotation(self.provision, self.other, 10, 20, body="Bob's view.")

    def section(self, response, heading_id):
        """The HTML of the home page's section labelled by `heading_id`."""
        html = response.content.decode()
        start = html.index(f'aria-labelledby="{heading_id}"')
        return html[start : html.index("</section>", start)]

    def test_sent_back_shows_the_curators_reason(self):
        """A note sent back is listed with the curator's reason and a link to its card."""
        section = self.section(self.client.get(self.home_url), "sent-back-heading")
        self.assertIn("Name the article it contradicts.", section)
        self.assertIn(f'{self.url}#annotation-{self.returned.pk}"', section)

    def test_needs_attention_lists_adrift_notes_with_place_again(self):
        """An orphaned note is listed under Needs attention with a link to place it again."""
        section = self.section(self.client.get(self.home_url), "attention-heading")
        self.assertIn(reverse("annotations:place", args=[self.adrift.pk]), section)

    def test_awaiting_review_lists_submitted_notes(self):
        """A submitted note is listed under Awaiting review, and only there."""
        response = self.client.get(self.home_url)
        self.assertEqual(
            [heading for heading in ("sent-back-heading", "attention-heading", "awaiting-heading")
             if "Waiting." in self.section(response, heading)],
            ["awaiting-heading"],
        )

    def test_team_activity_shows_what_others_wrote(self):
        """Recent team activity lists another analyst's note, not one's own."""
        section = self.section(self.client.get(self.home_url), "activity-heading")
        self.assertEqual(("Bob&#x27;s view." in section, "Waiting." in section), (True, False))

    def test_provisions_with_their_counts(self):
        """Each provision's row counts the team's annotations and one's own."""
        make_annotation(self.provision, self.other, 30, 40, visibility="private")  # bob's own: not counted for ana
        html = self.client.get(self.home_url).content.decode()
        row = re.search(r'<th scope="row"><a href="/workspace/t/art-4/">Article 4</a>.*?</tr>', html, re.S).group(0)
        self.assertEqual(re.findall(r'<td class="count">(\d+)</td>', row), ["4", "3"])

    def test_first_time_analyst_is_shown_how_to_annotate(self):
        """An analyst with no annotation yet sees how to annotate, with the keyboard path; one with notes does not."""
        newcomer = make_user("newcomer")
        self.client.force_login(newcomer)
        shown = "How to annotate" in self.client.get(self.home_url).content.decode()
        self.client.force_login(self.analyst)
        self.assertEqual((shown, "How to annotate" in self.client.get(self.home_url).content.decode()), (True, False))

    def test_home_queries_do_not_grow_with_annotations(self):
        """The home costs the same queries with a few annotations as with hundreds, in every list, replies and
        notes on a commentary excerpt included."""
        source = make_source(body="A commentary on the article.")
        excerpt = make_excerpt(source, 0, len(source.body))
        link(excerpt, self.provision)

        def grow(count):
            for _ in range(count):
                note = make_annotation(self.provision, self.analyst, 0, 6, review=Annotation.Review.RETURNED, review_note="No.")
                make_annotation(self.provision, self.analyst, 0, 6, review=Annotation.Review.SUBMITTED)
                annotation_row(provision=self.provision, author=self.analyst, body="Lost.", visibility="team",
                               placement=Annotation.Placement.DRIFTED, exact="gone")
                annotation_row(parent=note, author=self.other, body="A reply.", visibility="team")
                on_excerpt = annotation_row(excerpt=excerpt, author=self.other, body="On the excerpt.", visibility="team",
                                            exact=excerpt.text[:10], start=0, end=10)
                annotation_row(parent=on_excerpt, author=self.curator, body="Reply on the excerpt.", visibility="team")

        grow(1)
        with CaptureQueriesContext(connection) as few:
            self.client.get(self.home_url)
        grow(40)
        with CaptureQueriesContext(connection) as many:
            response = self.client.get(self.home_url)
        self.assertContains(response, "Reply on the excerpt.")
        self.assertEqual(len(many), len(few), [q["sql"] for q in many.captured_queries])


class WorkspaceCardCacheTests(WorkspaceTestCase):
    """Whatever a workspace card shows its viewer changes on the page when it changes, through the
    door people use, with the card cache in play (never cleared here): each card is cached under a
    key read from light rows (annotations/card_keys.py), so a key that leaves an input out shows
    the old card."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.version = LanguageVersion.objects.create(provision=cls.provision, language="ru", text=RUSSIAN)
        cls.note = writes.create(author=cls.other, target=cls.provision, start=TEXT.index(QUOTE),
                                 end=TEXT.index(QUOTE) + len(QUOTE), exact=QUOTE, body="First words", tags=[cls.tag])

    def card(self, viewer=None):
        self.client.force_login(viewer or self.analyst)
        html = self.client.get(self.url).content.decode()
        start = html.index(f'<li id="annotation-{self.note.pk}"')
        return html[start : html.index("</li>\n", html.index('<div class="card-actions">', start))]

    def version_of(self, pk):
        return Annotation.objects.get(pk=pk).version

    def test_every_change_to_what_a_card_shows_shows(self):
        self.assertIn("First words", self.card())
        strength = AssessmentField.objects.get(slug="strength")
        value = strength.values.order_by("position").first()
        reply = {}

        def edit():
            writes.edit(self.note.pk, by=self.other, version=self.version_of(self.note.pk), body="Second words",
                        tags=[self.tag], assessment={"strength": value.slug})

        def rename_tag():
            Tag.objects.filter(pk=self.tag.pk).update(name="armed attack")  # no signal: only the key knows

        def rename_author():
            type(self.other).objects.filter(pk=self.other.pk).update(username="boris")

        def relabel_value():
            AssessmentValue.objects.filter(pk=value.pk).update(label="Relabelled strength")

        def add_reply():
            reply["note"] = writes.reply(self.note.pk, author=self.analyst, body="A first reply")

        def edit_reply():
            pk = reply["note"].pk
            writes.edit(pk, by=self.analyst, version=self.version_of(pk), body="A corrected reply")

        def rename_reply_author():
            type(self.analyst).objects.filter(pk=self.analyst.pk).update(username="anabel")

        def hide_reply():
            writes.hide(Annotation.objects.filter(pk=reply["note"].pk), curator=self.curator)

        def pair():
            start = RUSSIAN.index("Стороны")
            reply["pair"] = writes.create(author=self.analyst, target=self.version, start=start, end=start + 7,
                                          exact="Стороны", body="The Russian.", counterpart=self.note.pk)

        def delete_pair():
            writes.delete(reply["pair"].pk, by=self.analyst)

        def retag_in_admin():
            self.client.force_login(self.curator)
            self.client.post(reverse("admin:annotations_annotation_change", args=[self.note.pk]), {"tags": [], "_save": "Save"})

        def publish_then_revise():
            writes.submit(self.note.pk, by=self.other)
            writes.publish(Annotation.objects.filter(pk=self.note.pk), curator=self.curator)
            war = Tag.objects.create(name="war footing", slug="war-footing", colour="#223344")
            writes.edit(self.note.pk, by=self.other, version=self.version_of(self.note.pk), body="Revised words",
                        tags=[war])

        steps = [
            ("note edited", edit, "Second words", "First words"),
            ("tag renamed", rename_tag, ">armed attack<", ">military-assistance<"),
            ("author renamed", rename_author, ">boris<", None),
            ("assessment value relabelled", relabel_value, "Relabelled strength", None),
            ("reply added", add_reply, "A first reply", None),
            ("reply edited", edit_reply, "A corrected reply", "A first reply"),
            ("reply's author renamed", rename_reply_author, ">anabel<", None),
            ("reply hidden", hide_reply, None, "A corrected reply"),
            ("paired with a note on the Russian", pair, "Стороны", None),
            ("the pair deleted", delete_pair, None, "Стороны"),
            ("tags corrected in the admin", retag_in_admin, None, ">armed attack<"),
            # Published, then revised with another tag: the card shows the revision's tag apart.
            ("revised with a tag", publish_then_revise,
             '<span class="visually-hidden">Tags of the revision:</span> <span class="tag tag-war-footing">war footing</span>',
             None),
            ("the revision's tag renamed", lambda: Tag.objects.filter(slug="war-footing").update(name="war readiness"),
             ">war readiness<", ">war footing<"),
            # The cached fragment is the whole <li>, whose class tells the review state: a change of it
            # that moves no version (a queryset update) still shows, the key holding the state itself.
            ("review state changed", lambda: Annotation.objects.filter(pk=self.note.pk).update(review="submitted"),
             'class="card state-submitted"', 'class="card state-draft"'),
            ("placement changed", lambda: Annotation.objects.filter(pk=self.note.pk).update(placement="fuzzy"),
             "Re-anchored after a wording change", None),
        ]
        for label, change, shown, gone in steps:
            with self.subTest(label):
                change()
                card = self.card()
                if shown is not None:
                    self.assertIn(shown, card)
                if gone is not None:
                    self.assertNotIn(gone, card)

    def test_a_note_on_an_excerpt_shows_its_changes_in_its_card_and_highlight(self):
        """A note on a commentary excerpt beside the provision: its card (through the cache) and its
        highlight in the excerpt show an edit of its words and of its tags."""
        excerpt = make_excerpt(make_source(body="Automatic intervention is what the clause means."), 0, 46)
        link(excerpt, self.provision)
        war = Tag.objects.create(name="war footing", slug="war-footing", colour="#223344")
        note = writes.create(author=self.analyst, target=excerpt, start=0, end=9, exact="Automatic", body="Yes.")

        def shown():
            html = self.client.get(self.url).content.decode()
            start = html.index(f'<li id="annotation-{note.pk}"')
            card = html[start : html.index("</li>\n", html.index('<div class="card-actions">', start))]
            highlight = re.search(rf'<mark class="([^"]*)" id="hl-{note.pk}"', html)[1]
            return card, highlight

        card, highlight = shown()
        self.assertIn("Yes.", card)
        self.assertEqual(highlight.split(), ["hl", "depth-1"])
        writes.edit(note.pk, by=self.analyst, version=self.version_of(note.pk), body="No, only consultations.",
                    tags=[war])
        card, highlight = shown()
        self.assertIn("No, only consultations.", card)
        self.assertIn(">war footing<", card)
        self.assertEqual(highlight.split(), ["hl", "depth-1", "tag-war-footing"])
        # Retagged through HTMX: the answer sends the excerpt's highlights again, in the new tag's colour.
        answer = self.client.post(reverse("annotations:edit", args=[note.pk]), {
            "body": "No, only consultations.", "visibility": "team", "version": self.version_of(note.pk),
            "tags": [self.tag.pk]}, headers=HTMX).content.decode()
        oob = answer[answer.index(f'<div id="excerpt-{excerpt.pk}"'):]
        self.assertIn('data-hx-swap-oob="true"', oob[:oob.index(">")])
        self.assertEqual(re.search(rf'<mark class="([^"]*)" id="hl-{note.pk}"', oob)[1].split(),
                         ["hl", "depth-1", "tag-military-assistance"])

    def test_a_private_pair_shows_only_on_its_authors_card_whoever_saw_the_card_first(self):
        """Ana pairs her private note on the Russian with Bob's team note: Bob's card shows the pair to
        her and not to Cal, another analyst to whom the card otherwise looks the same (nor to Bob),
        whichever of them had the card rendered and cached first; nor in an HTMX write's answer."""
        start = RUSSIAN.index("Стороны")
        writes.create(author=self.analyst, target=self.version, start=start, end=start + 7, exact="Стороны",
                      body="Mine alone.", visibility="private", counterpart=self.note.pk)
        cal = make_user("cal")
        for order in [(self.analyst, cal, self.other), (cal, self.analyst, self.other)]:
            for viewer in order:
                with self.subTest(order=[user.username for user in order], viewer=viewer.username):
                    self.assertEqual("Стороны" in self.card(viewer), viewer == self.analyst)
            Tag.objects.filter(pk=self.tag.pk).update(name=f"renamed {order[0].username}")  # new keys
        self.client.force_login(cal)
        answer = self.client.post(reverse("annotations:reply", args=[self.note.pk]), {"body": "Noted."},
                                  headers=HTMX).content.decode()
        self.assertIn("Noted.", answer)
        self.assertNotIn("Стороны", answer)

    def test_a_card_links_to_the_workspace_it_is_shown_on(self):
        """A card's tag links name its workspace's URL: once the provision's slug changes, the card
        cached under the old URL is not shown on the new one."""
        self.assertIn(f'href="{self.url}?tag=military-assistance"', self.card())
        Provision.objects.filter(pk=self.provision.pk).update(slug="art-4-bis")
        url = reverse("annotations:workspace", args=["t", "art-4-bis"])
        html = self.client.get(url).content.decode()
        self.assertIn(f'href="{url}?tag=military-assistance"', html)
        self.assertNotIn(f'href="{self.url}?tag=', html)

    def test_a_card_shows_each_viewer_their_own_actions(self):
        """The author's card has Edit and Delete, another analyst's has neither, a curator's has Hide,
        whichever of them was first to have the card rendered and cached."""
        edit_link = f"{self.note.pk}/edit/"
        for viewer, edits, hides in [(self.other, True, False), (self.analyst, False, False), (self.curator, False, True)]:
            with self.subTest(viewer=viewer.username):
                card = self.card(viewer)
                self.assertEqual(edit_link in card, edits)
                self.assertEqual(f"{self.note.pk}/hide/" in card, hides)

    def test_a_write_answers_with_the_card_the_page_then_shows(self):
        """An HTMX edit, reply and submit answer with the card rendered afresh (not from the cache), and
        it is, byte for byte but the CSRF token, the card the page shows next, from the cache or not."""

        def card_in(html):
            start = html.index(f'<li id="annotation-{self.note.pk}"')
            card = html[start : html.index("</li>\n", html.index('<div class="card-actions">', start))]
            return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", card)

        self.client.force_login(self.other)
        writes_through_htmx = [
            ("edit", reverse("annotations:edit", args=[self.note.pk]),
             lambda: {"body": "Edited through HTMX.", "visibility": "team", "version": self.version_of(self.note.pk),
                      "tags": [self.tag.pk]}),
            ("reply", reverse("annotations:reply", args=[self.note.pk]), lambda: {"body": "A reply through HTMX."}),
            ("submit", reverse("annotations:submit", args=[self.note.pk]), dict),
        ]
        for label, url, data in writes_through_htmx:
            with self.subTest(label):
                self.client.get(self.url)  # the card as it was, in the cache
                answer = card_in(self.client.post(url, data(), headers=HTMX).content.decode())
                for _ in range(2):  # rendered and cached, then from the cache
                    self.assertEqual(card_in(self.client.get(self.url).content.decode()), answer)

    def test_a_card_found_in_the_cache_is_shown_even_if_evicted_before_the_page_renders(self):
        """The cache is bounded in bytes, and a page's new cards go into it while it renders: a card the
        page found there is shown from what it found, not looked up again (evicted meanwhile, a light
        row would render an empty card)."""
        self.assertIn("First words", self.card())  # cached now
        cards = caches["cards"]
        found_then_evicted = cards.get_many

        def get_many(keys):
            found = found_then_evicted(keys)
            cards.delete_many(list(found))  # evicted right after the page found them
            return found

        with mock.patch.object(cards, "get_many", side_effect=get_many):
            card = self.card()
        self.assertIn("First words", card)
        self.assertIn(">military-assistance<", card)


class CardForTests(WorkspaceTestCase):
    def test_a_note_the_user_may_no_longer_read_has_no_card(self):
        """A write's answer reads its card through the read rule: a note removed or made private by
        someone else since the write has none (None), rather than a 500."""
        from django.contrib.auth.models import AnonymousUser
        from django.test import RequestFactory

        from annotations.views import card_for

        request = RequestFactory().get("/")
        request.user = AnonymousUser()
        private = make_annotation(self.provision, make_user("yan"), 4, 11, visibility="private")
        public = make_annotation(self.provision, make_user("ula"), 4, 11, visibility="public")
        visible = Annotation.objects.readable_by(request.user)
        tags = Tag.objects.vocabulary()
        self.assertIsNone(card_for(request, private.pk, visible, tags))
        self.assertEqual(card_for(request, public.pk, visible, tags).pk, public.pk)
