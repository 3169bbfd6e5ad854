"""Issue 13 §5: public threads and disputes.

Published replies show under their note with permalinks; a published annotation on a commentary
excerpt (an analyst disputing a commentator's claim) shows on the source page and beside the excerpt
on every provision page it is linked to, and its JSON-LD id names an element of the page it names.
Everything is made through annotations.writes, as people make it.
"""

from urllib.parse import urlsplit

from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotations import writes
from annotations.models import Annotation
from treaty_app.views import public_cards

from .factories import link, make_excerpt, make_provision, make_source, make_treaty, make_user
from .pagetext import text_content

CLAIM = "The treaty revives the automatic military alliance of 1961."
BODY = f"{CLAIM}\n\nA second paragraph that no one annotates."


def publish(annotation, curator):
    writes.publish(Annotation.objects.filter(pk=annotation.pk), curator=curator)
    return Annotation.objects.get(pk=annotation.pk)


def annotate(target, author, curator, words, body, *, text=None):
    """An annotation on `words` of `target` (a provision or an excerpt), submitted and published."""
    start = (text or target.text).index(words)
    note = writes.create(author=author, target=target, start=start, end=start + len(words), exact=words, body=body)
    writes.submit(note.pk, by=author)
    return publish(note, curator)


def reply(note, author, curator, body):
    answer = writes.reply(note.pk, author=author, body=body)
    return publish(answer, curator)


def element(html, element_id):
    """The markup of the element `element_id`, from its start tag to its end tag (nested elements of
    the same name counted)."""
    begin = html.rindex("<", 0, html.index(f' id="{element_id}"'))
    name = html[begin + 1:].split(None, 1)[0]
    depth, at = 0, begin
    while True:
        opening, closing = html.find(f"<{name}", at + 1), html.find(f"</{name}>", at + 1)
        if opening != -1 and opening < closing:
            depth, at = depth + 1, opening
        elif depth:
            depth, at = depth - 1, closing
        else:
            return html[begin: closing + len(f"</{name}>")]


class ThreadTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.treaty = make_treaty(slug="t", short_title="T")
        cls.article_4 = make_provision(cls.treaty, number=4, text="The other Party shall provide assistance.")
        cls.article_5 = make_provision(cls.treaty, number=5, text="Neither Party shall join a hostile bloc.")
        cls.source = make_source(BODY)
        cls.excerpt = make_excerpt(cls.source, 0, len(CLAIM))
        link(cls.excerpt, cls.article_4)
        link(cls.excerpt, cls.article_5)
        cls.ana = make_user("ana")
        cls.bob = make_user("bob")
        cls.cora = make_user("cora", role="Curators", is_staff=True)

    def page(self, url):
        response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        return response.content.decode()


class PublicRepliesTests(ThreadTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.note = annotate(cls.article_4, cls.ana, cls.cora, "provide assistance", "Assistance of any kind.")

    def test_published_replies_have_permalinks_inside_their_note(self):
        """Each published reply is an element #annotation-N inside its note's card, with a link to itself."""
        answer = reply(self.note, self.bob, self.cora, "Only military assistance.")
        card = element(self.page(self.article_4.get_absolute_url()), f"annotation-{self.note.pk}")
        self.assertIn(f'id="annotation-{answer.pk}"', card)
        self.assertIn(f'href="#annotation-{answer.pk}"', card)

    def test_replies_come_in_the_order_they_were_written(self):
        """Replies published in the reverse of the order they were written show in the order written."""
        first = writes.reply(self.note.pk, author=self.bob, body="Written first.")
        second = writes.reply(self.note.pk, author=self.ana, body="Written second.")
        publish(second, self.cora)
        publish(first, self.cora)
        card = element(self.page(self.article_4.get_absolute_url()), f"annotation-{self.note.pk}")
        self.assertLess(card.index(f'id="annotation-{first.pk}"'), card.index(f'id="annotation-{second.pk}"'))

    def test_a_reply_awaiting_review_is_not_public(self):
        """A reply that no curator published yet is on no public page."""
        writes.reply(self.note.pk, author=self.bob, body="Not reviewed yet.")
        self.assertNotIn("Not reviewed yet.", self.page(self.article_4.get_absolute_url()))

    def test_a_published_reply_changes_its_notes_card_key(self):
        """The card's digest covers its replies: publishing one gives the card a new key."""
        def key():
            card, = public_cards(Annotation.objects.filter(pk=self.note.pk))
            return card.card_key

        before = key()
        reply(self.note, self.bob, self.cora, "A reply.")
        self.assertNotEqual(key(), before)


class ExcerptAnnotationTests(ThreadTestCase):
    """An analyst disputes the commentator's claim that the treaty revives the 1961 alliance."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.dispute = annotate(cls.excerpt, cls.ana, cls.cora, "automatic military alliance",
                               "Article 4 is not automatic: it defers to national law.")
        cls.answer = reply(cls.dispute, cls.bob, cls.cora, "Agreed, see the Russian text.")

    def test_source_page_shows_the_card(self):
        """The source page has the annotation's card, with its note."""
        card = element(self.page(self.source.get_absolute_url()), f"annotation-{self.dispute.pk}")
        self.assertIn("it defers to national law", card)

    def test_source_page_highlights_it_inside_the_excerpt(self):
        """The annotation's highlight (#hl-N) is inside the excerpt's mark on the source page."""
        excerpt = element(self.page(self.source.get_absolute_url()), f"excerpt-{self.excerpt.pk}")
        self.assertIn(f'id="hl-{self.dispute.pk}"', excerpt)

    def test_the_excerpt_element_still_holds_exactly_its_words(self):
        """With a highlight inside, #excerpt-N's text is still the excerpt's text (the W3C target source)."""
        self.assertEqual(text_content(self.page(self.source.get_absolute_url()), f"excerpt-{self.excerpt.pk}"), CLAIM)

    def test_the_card_follows_the_paragraph_of_its_excerpt(self):
        """On the source page the card comes after the excerpt's paragraph and before the next one."""
        html = self.page(self.source.get_absolute_url())
        card = html.index(f'id="annotation-{self.dispute.pk}"')
        self.assertLess(html.index(f'id="excerpt-{self.excerpt.pk}"'), card)
        self.assertLess(card, html.index("A second paragraph"))

    def test_every_linked_provision_page_shows_it_beside_the_excerpt(self):
        """Both provisions the excerpt is linked to show the card after the excerpt, within its source's block."""
        for provision in (self.article_4, self.article_5):
            with self.subTest(provision=provision.slug):
                block = element(self.page(provision.get_absolute_url()), f"source-{self.source.slug}")
                self.assertLess(block.index(f'id="excerpt-{self.excerpt.pk}"'),
                                block.index(f'id="annotation-{self.dispute.pk}"'))

    def test_provision_page_highlights_it_in_the_excerpt(self):
        """Beside the provision, the excerpt's words carry the annotation's highlight."""
        quote = element(self.page(self.article_4.get_absolute_url()), f"excerpt-{self.excerpt.pk}")
        self.assertIn(f'id="hl-{self.dispute.pk}"', quote)

    def test_its_reply_shows_under_it(self):
        """The published reply to the annotation on the excerpt shows in its card on the source page."""
        card = element(self.page(self.source.get_absolute_url()), f"annotation-{self.dispute.pk}")
        self.assertIn(f'id="annotation-{self.answer.pk}"', card)

    def test_jsonld_ids_name_an_element_of_the_page_they_name(self):
        """The ids of the annotation and its reply in the public JSON-LD each name a page that has an
        element with the id of their fragment."""
        items = self.client.get(reverse("reader:annotations-export"), {"page": "1"}).json()["items"]
        ids = {item["id"] for item in items}
        self.assertEqual(len(ids), 2)
        for iri in ids:
            with self.subTest(iri=iri):
                parts = urlsplit(iri)
                self.assertIn(f'id="{parts.fragment}"', self.page(parts.path))

    def test_a_team_note_on_the_excerpt_is_not_public(self):
        """An annotation on the excerpt that no curator published is on neither page."""
        start = CLAIM.index("1961")
        writes.create(author=self.bob, target=self.excerpt, start=start, end=start + 4, exact="1961",
                      body="SECRET-team")
        for url in (self.source.get_absolute_url(), self.article_4.get_absolute_url()):
            with self.subTest(url=url):
                self.assertNotIn("SECRET-team", self.page(url))

    def test_publishing_one_reaches_pages_already_cached(self):
        """A page cached before a publication on its excerpt shows the new annotation afterwards."""
        urls = (self.source.get_absolute_url(), self.article_5.get_absolute_url())
        for url in urls:
            self.page(url)
        later = annotate(self.excerpt, self.bob, self.cora, "1961", "The 1961 treaty had no such clause.")
        for url in urls:
            with self.subTest(url=url):
                self.assertIn(f'id="annotation-{later.pk}"', self.page(url))


class ExcerptAnnotationQueryTests(ThreadTestCase):
    """Source and provision pages cost the same queries with 1 and 30 annotations on the excerpt,
    each with a reply."""

    def grow(self, count):
        for n in range(count):
            note = annotate(self.excerpt, self.ana, self.cora, "military", f"Note {n}.")
            reply(note, self.bob, self.cora, f"Reply {n}.")

    def count(self, url):
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(self.client.get(url).status_code, 200)
        return queries

    def test_pages_stay_flat(self):
        urls = [self.source.get_absolute_url(), self.article_4.get_absolute_url()]
        self.grow(1)
        before = [len(self.count(url)) for url in urls]
        self.grow(29)
        for url, small in zip(urls, before):
            with self.subTest(url=url):
                after = self.count(url)
                self.assertEqual(len(after), small, [q["sql"] for q in after.captured_queries])
