import json
import time
from io import StringIO

from django.contrib.auth.models import AnonymousUser
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory, SimpleTestCase, TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotations.models import Annotation, Tag
from treaty_app.cache_backends import ByteBudgetLocMemCache
from treaty_app.caching import conditional_page
from treaty_app.importing import load_corpus
from treaty_app.models import ContentVersion, ExcerptLink, Source, Treaty

from .factories import make_annotation, make_annotations, make_provision, make_user


class PublicReaderTests(TestCase):
    """The public reader with annotations in every state of visibility."""

    @classmethod
    def setUpTestData(cls):
        load_corpus()
        cls.treaty = Treaty.objects.get()
        cls.article_4 = cls.treaty.provisions.get(slug="art-4")
        cls.author = make_user("ana")
        cls.other = make_user("bob")
        cls.curator = make_user("cora", role="Curators", is_staff=True)
        cls.tag = Tag.objects.create(name="legal-threshold", slug="legal-threshold")
        text = cls.article_4.text
        start = text.index("and thus finds itself in a state of war")
        cls.notes = {}
        for visibility in ["private", "team", "public"]:
            cls.notes[visibility] = make_annotation(
                cls.article_4, cls.author, start, start + 39, visibility=visibility,
                body=f"SECRET-{visibility}" if visibility != "public" else "Published-note", tags=[cls.tag],
            )
        cls.hidden = make_annotation(cls.article_4, cls.author, 0, 5, visibility="public", body="SECRET-hidden")
        Annotation.objects.filter(pk=cls.hidden.pk).update(hidden_at=cls.hidden.created_at)
        cls.deleted = make_annotation(cls.article_4, cls.author, 0, 5, visibility="public", body="SECRET-deleted")
        Annotation.objects.filter(pk=cls.deleted.pk).update(deleted_at=cls.deleted.created_at)
        rejected = ExcerptLink.objects.filter(provision=cls.article_4).first()
        rejected.state = ExcerptLink.State.REJECTED
        rejected.save()
        cls.rejected_excerpt = rejected.excerpt
        cls.public_urls = [
            "/",
            cls.treaty.get_absolute_url(),
            cls.article_4.get_absolute_url(),
            reverse("reader:sources"),
            *[source.get_absolute_url() for source in Source.objects.all()],
        ]

    def test_visibility_matrix(self):
        """Anonymous, analysts and curators alike see only published annotations on every public page."""
        viewers = {"anonymous": None, "author": self.author, "other analyst": self.other, "curator": self.curator}
        for name, user in viewers.items():
            if user:
                self.client.force_login(user)
            else:
                self.client.logout()
            for url in self.public_urls:
                with self.subTest(viewer=name, url=url):
                    response = self.client.get(url, follow=True)
                    self.assertEqual(response.status_code, 200)
                    self.assertNotContains(response, "SECRET-")
        self.assertContains(self.client.get(self.article_4.get_absolute_url()), "Published-note")

    def test_published_annotation_is_highlighted_with_a_permalink(self):
        """The published annotation's words are highlighted, and highlight and note link to each other."""
        public = self.notes["public"]
        response = self.client.get(self.article_4.get_absolute_url())
        self.assertContains(response, f'id="hl-{public.pk}"')
        self.assertContains(response, f'href="#annotation-{public.pk}"')
        self.assertContains(response, f'id="annotation-{public.pk}"')
        self.assertContains(response, f'href="#hl-{public.pk}"')
        self.assertContains(response, reverse("reader:tag", args=[self.tag.slug]))

    def test_rejected_excerpt_links_are_not_shown(self):
        """A rejected link's excerpt is not listed as commentary on the provision."""
        response = self.client.get(self.article_4.get_absolute_url())
        self.assertNotContains(response, f'id="excerpt-{self.rejected_excerpt.pk}"')

    def test_no_write_controls_and_writes_refused(self):
        """The reader renders no form that writes, and refuses every non-safe method."""
        for url in self.public_urls[1:]:
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertNotContains(response, 'method="post"')
                for method in ["post", "put", "patch", "delete"]:
                    self.assertEqual(getattr(self.client, method)(url).status_code, 405)

    def test_cross_references_and_citation(self):
        """Article 4 lists its curated related provisions, in both directions, and a citation line."""
        response = self.client.get(self.article_4.get_absolute_url())
        self.assertContains(response, self.treaty.provisions.get(slug="art-3").get_absolute_url())
        self.assertContains(response, "Charter of the United Nations, Article 51")
        self.assertContains(response, "Cite this:")
        article_3 = self.client.get(self.treaty.provisions.get(slug="art-3").get_absolute_url())
        self.assertContains(article_3, self.article_4.get_absolute_url())


class ConditionalGetTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        load_corpus()
        cls.provision = Treaty.objects.get().provisions.get(slug="art-4")
        cls.author = make_user("ana")
        cls.url = cls.provision.get_absolute_url()

    def test_revalidation_answers_304_until_something_changes(self):
        """Same ETag → 304 in one query; a publication changes the ETag and the page."""
        first = self.client.get(self.url)
        etag = first["ETag"]
        self.assertIn("must-revalidate", first["Cache-Control"])
        self.assertIn("public", first["Cache-Control"])
        with CaptureQueriesContext(connection) as queries:
            again = self.client.get(self.url, headers={"If-None-Match": etag})
        self.assertEqual(again.status_code, 304)
        self.assertEqual(len(queries), 1)

        start = self.provision.text.index("state of war")
        make_annotation(self.provision, self.author, start, start + 12, visibility="public", body="Fresh note")
        changed = self.client.get(self.url, headers={"If-None-Match": etag})
        self.assertEqual(changed.status_code, 200)
        self.assertContains(changed, "Fresh note")
        self.assertNotEqual(changed["ETag"], etag)

    def test_visitors_get_the_cached_page_until_something_changes(self):
        """A second anonymous view is served from the page cache in one query; a change renders afresh."""
        first = self.client.get(self.url)
        with CaptureQueriesContext(connection) as queries:
            second = self.client.get(self.url)
        self.assertEqual(len(queries), 1)
        self.assertEqual(second.content, first.content)
        start = self.provision.text.index("state of war")
        make_annotation(self.provision, self.author, start, start + 12, visibility="public", body="Newer note")
        self.assertContains(self.client.get(self.url), "Newer note")

    def test_bulk_writes_change_the_version(self):
        """Queryset updates (admin actions, edits) bump the version as saves do."""
        version = ContentVersion.current()[0]
        ExcerptLink.objects.filter(provision=self.provision).update(state="rejected")
        self.assertGreater(ContentVersion.current()[0], version)

    def test_rolled_back_change_does_not_bump(self):
        """A failed import leaves the version as it was."""
        from treaty_app.importing import CorpusError, import_treaty

        version = ContentVersion.current()[0]
        with self.assertRaises(CorpusError):
            import_treaty("Article 1\nWords.\nArticle 99\nMore.\n", treaty=self.provision.treaty)
        self.assertEqual(ContentVersion.current()[0], version)

    def test_logged_in_pages_are_private(self):
        """A logged-in viewer's page is not stored by shared caches."""
        self.client.force_login(self.author)
        self.assertIn("private", self.client.get(self.url)["Cache-Control"])


class PublicQueryCountTests(TestCase):
    def test_provision_page_queries_do_not_grow(self):
        """The public provision page costs the same queries for 10 and 1,000 published annotations."""
        load_corpus()
        provision = Treaty.objects.get().provisions.get(slug="art-4")
        author = make_user("ana")
        tag = Tag.objects.create(name="t", slug="t")
        url = provision.get_absolute_url()

        def measure():
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = self.client.get(url)
                elapsed = (time.perf_counter() - started) * 1000
            self.assertEqual(response.status_code, 200)
            return queries, elapsed

        made = make_annotations(provision, author, 10, tags=[tag])
        Annotation.objects.filter(pk__in=[a.pk for a in made]).update(visibility="public")
        ten, ten_ms = measure()
        made = make_annotations(provision, author, 990, tags=[tag])
        Annotation.objects.filter(pk__in=[a.pk for a in made]).update(visibility="public")
        thousand, thousand_ms = measure()
        self.assertEqual(len(thousand), len(ten), [q["sql"] for q in thousand.captured_queries])
        print(f"\npublic provision page: 10 annotations {len(ten)} queries {ten_ms:.0f} ms; "
              f"1,000 annotations {len(thousand)} queries {thousand_ms:.0f} ms")


class PublicCardCacheTests(TestCase):
    """Published cards come from a cache keyed on what they show: whatever changes in a card shows."""

    @classmethod
    def setUpTestData(cls):
        load_corpus()
        cls.provision = Treaty.objects.get().provisions.get(slug="art-4")
        cls.author = make_user("ana")
        cls.tag = Tag.objects.create(name="naval", slug="naval")
        start = cls.provision.text.index("state of war")
        cls.note = make_annotation(
            cls.provision, cls.author, start, start + 12, visibility="public", review="published",
            body="First words", tags=[cls.tag],
        )
        cls.url = cls.provision.get_absolute_url()

    def card(self):
        # A fresh page each time (as after any new content version), so only the card cache can be stale.
        caches["default"].clear()
        response = self.client.get(self.url)
        html = response.content.decode()
        start = html.index(f'id="annotation-{self.note.pk}"')
        return html[start : html.index("</article>", start)]

    def test_every_change_to_what_a_card_shows_shows(self):
        note = Annotation.objects.filter(pk=self.note.pk)
        self.assertIn("First words", self.card())
        steps = [
            ("body", lambda: note.update(body_html="<p>Second words</p>"), "Second words"),
            ("tag renamed", lambda: Tag.objects.filter(pk=self.tag.pk).update(name="maritime"), ">maritime<"),
            ("author renamed", lambda: type(self.author).objects.filter(pk=self.author.pk).update(username="anabel"),
             "anabel"),
            ("reply", lambda: Annotation.objects.create(
                parent=self.note, author=self.author, body="A reply",
                visibility="public", review="published"), "A reply"),
            ("words gone", lambda: note.update(start=None, end=None), "its words have since changed"),
        ]
        for label, change, shown in steps:
            with self.subTest(label):
                change()
                self.assertIn(shown, self.card())
        Annotation.objects.filter(parent=self.note).update(body_html="<p>An edited reply</p>")
        self.assertIn("An edited reply", self.card())
        self.note.tags.clear()
        self.assertNotIn("maritime", self.card())


@override_settings(SITE_URL="https://glossa.example")
class HostHeaderTests(TestCase):
    """Issue 14: absolute URLs name SITE_URL, whatever Host a request (or the one before it) claimed."""

    @classmethod
    def setUpTestData(cls):
        cls.provision = make_provision(text="The Parties shall consult each other.", number=1)
        cls.page = cls.provision.get_absolute_url()
        cls.jsonld = reverse("reader:provision-annotations", args=[cls.provision.treaty.slug, cls.provision.slug])

    def setUp(self):
        caches["default"].clear()

    def test_cite_this_names_the_site_url(self):
        """After a request for localhost:8102, the next visitor's “Cite this” still names SITE_URL."""
        self.client.get(self.page, headers={"host": "localhost:8102"})
        self.assertContains(self.client.get(self.page), f"Glossa, https://glossa.example{self.page}</p>")

    def test_jsonld_ids_name_the_site_url(self):
        """After a request for localhost:8102, the next visitor's JSON-LD ids still name SITE_URL."""
        self.client.get(self.jsonld, headers={"host": "localhost:8102"})
        self.assertEqual(self.client.get(self.jsonld).json()["id"], f"https://glossa.example{self.jsonld}")

    def test_export_command_defaults_to_the_site_url(self):
        """export_annotations without --base-url writes ids under SITE_URL."""
        out = StringIO()
        call_command("export_annotations", "-", stdout=out, stderr=StringIO())
        self.assertEqual(json.loads(out.getvalue())["id"], "https://glossa.example/annotations.jsonld")


class PageCacheKeyTests(TestCase):
    """Issue 14: the page cache keys on what the page reads, and nothing else."""

    @classmethod
    def setUpTestData(cls):
        cls.provision = make_provision(text="The Parties shall consult each other.", number=1)
        cls.url = cls.provision.get_absolute_url()

    def setUp(self):
        caches["default"].clear()

    def test_unread_parameters_are_served_the_cached_page(self):
        """?r=<anything> (which no page reads) is served from the cache: one query, for the version."""
        self.client.get(self.url)
        with CaptureQueriesContext(connection) as queries:
            self.client.get(self.url, {"r": "8f3a61"})
        self.assertEqual(len(queries), 1, [q["sql"] for q in queries.captured_queries])

    def test_declared_parameters_make_their_own_entry(self):
        """?page=1 of the JSON-LD collection is a page, not the cached collection without it."""
        url = reverse("reader:annotations-export")
        self.client.get(url)
        self.assertEqual(self.client.get(url, {"page": "1"}).json()["type"], "AnnotationPage")

    def test_the_view_sees_only_declared_parameters(self):
        """A cached view is given the parameters it declared, so it cannot depend on another."""
        view = conditional_page(params=("a",))(lambda request: HttpResponse(" ".join(sorted(request.GET))))
        request = RequestFactory().get("/", {"a": "1", "b": "2", "r": "3"})
        request.user = AnonymousUser()
        self.assertEqual(view(request).content, b"a")


class ByteBudgetCacheTests(SimpleTestCase):
    """The page and card caches are bounded in bytes, not only in entries."""

    def make_cache(self, name, max_bytes):
        cache = ByteBudgetLocMemCache(name, {"OPTIONS": {"MAX_BYTES": max_bytes, "MAX_ENTRIES": 1000}})
        cache.clear()
        self.addCleanup(cache.clear)
        return cache

    def test_total_stays_within_the_budget(self):
        """Fifty values of 1 KB in a 10 KB cache leave at most 10 KB held."""
        cache = self.make_cache("budget-total", 10_000)
        for n in range(50):
            cache.set(f"page-{n}", "x" * 1000)
        self.assertLessEqual(cache.total_bytes, 10_000)

    def test_the_least_recently_used_goes_first(self):
        """With room for two values, reading the first keeps it: the second is dropped for the third."""
        cache = self.make_cache("budget-lru", 2_500)
        cache.set("first", "x" * 1000)
        cache.set("second", "x" * 1000)
        cache.get("first")
        cache.set("third", "x" * 1000)
        self.assertEqual([cache.has_key(key) for key in ["first", "second", "third"]], [True, False, True])

    def test_a_value_larger_than_the_budget_is_not_kept(self):
        """A page larger than the whole budget is not stored, and evicts nothing."""
        cache = self.make_cache("budget-large", 2_000)
        cache.set("small", "x" * 100)
        cache.set("huge", "x" * 5_000)
        self.assertEqual([cache.has_key("small"), cache.has_key("huge")], [True, False])

    def test_deleting_and_replacing_keep_the_count_right(self):
        """Replacing a value counts its new size only; deleting one gives its bytes back."""
        cache = self.make_cache("budget-count", 100_000)
        cache.set("a", "x" * 1000)
        cache.set("a", "x" * 3000)
        cache.set("b", "x" * 1000)
        cache.delete("b")
        only_a = self.make_cache("budget-reference", 100_000)
        only_a.set("a", "x" * 3000)
        self.assertEqual(cache.total_bytes, only_a.total_bytes)
