from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotations.models import Annotation
from treaty_app.importing import load_corpus
from treaty_app.models import ExcerptLink, Provision, Source, Treaty

from .factories import link, make_annotation, make_excerpt, make_provision, make_source, make_treaty, make_user
from .pagetext import WORDING, WORDING_SPANS, text_content


class CorpusPagesTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        load_corpus()
        cls.treaty = Treaty.objects.get()

    def test_home_leads_to_the_only_treaty(self):
        """With one treaty, the home page goes straight to it."""
        self.assertRedirects(self.client.get("/"), self.treaty.get_absolute_url())

    def test_table_of_contents(self):
        """The contents list all 24 provisions with their coverage and excerpt counts."""
        response = self.client.get(self.treaty.get_absolute_url())
        self.assertContains(response, 'class="coverage coverage-', count=24)
        self.assertContains(response, "Article 23")
        self.assertContains(response, "Preamble")

    def test_every_provision_page_renders_and_says_what_is_held(self):
        """Each provision page renders and states honestly how much of the wording is held."""
        notices = {
            "full": "Full text, imported from an official text.",
            "quoted": "only what commentators quote",
            "summary": "only a summary of what commentators say",
            "none": "holds no wording of this provision",
        }
        for provision in self.treaty.provisions.all():
            with self.subTest(provision=provision.slug):
                response = self.client.get(provision.get_absolute_url())
                self.assertContains(response, notices[provision.coverage])

    def test_article_4_shows_attributed_passages_and_commentary(self):
        """Article 4 shows each quoted passage with its source and the approved excerpts grouped by source."""
        response = self.client.get(reverse("reader:provision", args=[self.treaty.slug, "art-4"]))
        self.assertContains(response, "and thus finds itself in a state of war")
        self.assertContains(response, "Quoted by Konstantin Asmolov", count=2)
        self.assertContains(response, 'class="source-excerpts"', count=4)

    def test_source_page_marks_excerpts(self):
        """A source page shows its cleaned text with each public excerpt marked and linked."""
        source = Source.objects.get(capture_name="004_adae101498f390d2.txt")
        response = self.client.get(source.get_absolute_url())
        self.assertContains(response, '<mark id="excerpt-')
        self.assertContains(response, reverse("reader:provision", args=[self.treaty.slug, "art-16"]))
        self.assertNotContains(response, "Poll conducted")

    def test_unknown_pages_are_404(self):
        """Unknown treaties, provisions and sources are 404s."""
        for url in ["/treaties/nope/", f"/treaties/{self.treaty.slug}/art-99/", "/sources/nope/"]:
            with self.subTest(url=url):
                self.assertEqual(self.client.get(url).status_code, 404)

    def test_public_pages_refuse_writes(self):
        """The reader is read-only: a POST is refused with 405."""
        self.assertEqual(self.client.post(self.treaty.get_absolute_url()).status_code, 405)


class PageTextTests(TestCase):
    """The element holding a wording or an excerpt has the stored text as its text, character for character:
    W3C selectors index that text, and a client anchors them in the element's textContent."""

    @classmethod
    def setUpTestData(cls):
        load_corpus()
        cls.treaty = Treaty.objects.get()
        cls.full = make_provision(cls.treaty, number=90, text=WORDING, coverage=Provision.Coverage.FULL)
        author = make_user("ana")
        for provision, spans in [(cls.full, WORDING_SPANS), (cls.treaty.provisions.get(slug="art-4"), ["war"])]:
            for words in spans:
                start = provision.text.index(words)
                make_annotation(
                    provision, author, start, start + len(words),
                    visibility=Annotation.Visibility.PUBLIC, review=Annotation.Review.PUBLISHED,
                )

    def test_public_wording_is_the_stored_text(self):
        """On every provision page with wording, #wording's text is the provision's text, annotation numbers
        and paragraph breaks included; the numbers are data-ref attributes, not text."""
        provisions = list(Provision.objects.exclude(text=""))
        self.assertEqual({p.coverage for p in provisions}, {"full", "quoted"})
        for provision in provisions:
            with self.subTest(provision=provision.slug):
                response = self.client.get(provision.get_absolute_url())
                self.assertEqual(text_content(response.content, "wording"), provision.text)
        response = self.client.get(self.full.get_absolute_url())
        for annotation in self.full.annotations.all():
            self.assertContains(
                response, f'<a class="hl-ref" href="#annotation-{annotation.pk}" aria-label="Annotation {annotation.pk}"'
                f' data-ref="{annotation.pk}"></a>', html=True,
            )

    def test_quoted_passages_are_attributed_beside_the_wording(self):
        """Each quoted passage links to a numbered attribution after the wording, naming author and source."""
        article_4 = Provision.objects.get(treaty=self.treaty, slug="art-4")
        passages = list(article_4.quoted_passages.select_related("source"))
        self.assertEqual(len(passages), 2)
        response = self.client.get(article_4.get_absolute_url())
        self.assertNotIn("Quoted by", text_content(response.content, "wording"))
        for n, passage in enumerate(passages, start=1):
            with self.subTest(passage=n):
                self.assertContains(response, f'href="#attribution-{n}" aria-label="Attribution {n}" data-ref="{n}"')
                self.assertEqual(
                    text_content(response.content, f"attribution-{n}"),
                    f"Quoted by {passage.source.author} in {passage.source.display_title} ↑",
                )
                self.assertEqual(text_content(response.content, f"passage-{n}"), passage.text)

    def test_source_page_excerpt_is_its_text(self):
        """On each source page, the element an excerpt permalink names holds exactly the excerpt's text."""
        checked = 0
        for source in Source.objects.all():
            response = self.client.get(source.get_absolute_url())
            for excerpt in source.excerpts.filter(links__state=ExcerptLink.State.APPROVED).distinct():
                with self.subTest(excerpt=excerpt.pk):
                    self.assertEqual(text_content(response.content, f"excerpt-{excerpt.pk}"), excerpt.text)
                    checked += 1
        self.assertGreater(checked, 10)


class PublicVisibilityTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.provision = make_provision(number=1, text="The Parties agree.")
        cls.source = make_source("Approved paragraph on Article 1.\n\nProposed paragraph on Article 1.")
        cls.approved = make_excerpt(cls.source, 0, 32)
        cls.proposed = make_excerpt(cls.source, 34, 66)
        link(cls.approved, cls.provision)
        link(cls.proposed, cls.provision, state=ExcerptLink.State.PROPOSED)

    def test_only_approved_excerpts_are_public(self):
        """Proposed and rejected links appear on no public page or count."""
        for url in [self.provision.get_absolute_url(), self.source.get_absolute_url()]:
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertContains(response, "Approved paragraph")
                if url == self.provision.get_absolute_url():
                    self.assertNotContains(response, "Proposed paragraph")
                else:
                    self.assertNotContains(response, f'id="excerpt-{self.proposed.pk}"')
        contents = self.client.get(self.provision.treaty.get_absolute_url())
        self.assertEqual(contents.context["provisions"][0].excerpt_count, 1)


class QueryCountTests(TestCase):
    """Pages cost the same number of queries whatever the size of the corpus."""

    def grow(self, treaty, sources, per_source):
        for n in range(sources):
            source = make_source("\n\n".join(f"Paragraph {i} on Article 1." for i in range(per_source)))
            offset = 0
            for paragraph in source.body.split("\n\n"):
                excerpt = make_excerpt(source, offset, offset + len(paragraph))
                offset += len(paragraph) + 2
                for provision in treaty.provisions.all():
                    link(excerpt, provision)

    def count(self, url):
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(self.client.get(url).status_code, 200)
        return queries

    def test_pages_stay_flat(self):
        """Contents, provision and source pages: same query count at 1×1 and 6×20 excerpts."""
        treaty = make_treaty()
        provisions = [make_provision(treaty, number=n, text=f"Article {n} text.") for n in range(1, 4)]
        self.grow(treaty, 1, 1)
        urls = [treaty.get_absolute_url(), provisions[1].get_absolute_url(), Source.objects.first().get_absolute_url()]
        small = [len(self.count(url)) for url in urls]
        self.grow(treaty, 5, 20)
        for url, before in zip(urls, small):
            with self.subTest(url=url):
                after = self.count(url)
                self.assertEqual(len(after), before, [q["sql"] for q in after.captured_queries])
