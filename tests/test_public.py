import json
import time
from io import StringIO
from unittest import mock

from django.contrib.auth.models import AnonymousUser
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory, SimpleTestCase, TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from annotations import writes
from annotations.models import Annotation, AssessmentValue, Tag
from treaty_app import versioning
from treaty_app.cache_backends import ByteBudgetLocMemCache
from treaty_app.caching import conditional_page
from treaty_app.importing import load_corpus
from treaty_app.models import ContentVersion, ExcerptLink, Source, Treaty

from .factories import (
    annotation_row,
    make_annotation,
    make_annotations,
    make_provision,
    make_treaty,
    make_user,
)


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


def published_note(provision, author, curator, words, body, tags=()):
    """An annotation made, submitted and published through the write module, as people do it."""
    start = provision.text.index(words)
    note = writes.create(
        author=author, target=provision, start=start, end=start + len(words), exact=words, body=body, tags=tags,
    )
    writes.submit(note.pk, by=author)
    writes.publish(Annotation.objects.filter(pk=note.pk), curator=curator)
    return Annotation.objects.get(pk=note.pk)


class ConditionalGetTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        load_corpus()
        cls.provision = Treaty.objects.get().provisions.get(slug="art-4")
        cls.author = make_user("ana")
        cls.curator = make_user("cora", role="Curators", is_staff=True)
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

        published_note(self.provision, self.author, self.curator, "state of war", "Fresh note")
        changed = self.client.get(self.url, headers={"If-None-Match": etag})
        self.assertEqual(changed.status_code, 200)
        self.assertContains(changed, "Fresh note")
        self.assertNotEqual(changed["ETag"], etag)

    def test_visitors_get_the_cached_page_until_something_changes(self):
        """A second anonymous view is served from the page cache in one query; a publication renders afresh."""
        first = self.client.get(self.url)
        with CaptureQueriesContext(connection) as queries:
            second = self.client.get(self.url)
        self.assertEqual(len(queries), 1)
        self.assertEqual(second.content, first.content)
        published_note(self.provision, self.author, self.curator, "state of war", "Newer note")
        self.assertContains(self.client.get(self.url), "Newer note")

    def test_team_and_private_writes_invalidate_no_public_page(self):
        """Creating, editing and deleting team and private notes changes no version: no public page can show them."""
        etag = self.client.get(self.url)["ETag"]
        versions = versioning.current()
        start = self.provision.text.index("state of war")
        for visibility in ("team", "private"):
            note = writes.create(author=self.author, target=self.provision, start=start, end=start + 12,
                                 exact="state of war", body="Draft", visibility=visibility)
            writes.edit(note.pk, by=self.author, version=note.version, body="Redraft", visibility=visibility)
            writes.delete(note.pk, by=self.author)
        self.assertEqual(versioning.current(), versions)
        self.assertEqual(self.client.get(self.url, headers={"If-None-Match": etag}).status_code, 304)

    def test_a_publication_changes_only_its_treaty_and_the_pages_showing_every_treaty(self):
        """Publishing on one treaty leaves another treaty's pages and the source pages valid; the tag
        pages (which show every treaty) change."""
        other = make_provision(make_treaty(slug="other"), number=1, text="Another treaty's wording.")
        other_url = other.get_absolute_url()
        source_url = Source.objects.first().get_absolute_url()
        tag = Tag.objects.create(name="scope", slug="scope")
        tag_url = reverse("reader:tag", args=["scope"])
        before = {url: self.client.get(url)["ETag"] for url in (other_url, source_url, tag_url, self.url)}
        published_note(self.provision, self.author, self.curator, "state of war", "On the first treaty", tags=[tag])
        after = {url: self.client.get(url, headers={"If-None-Match": before[url]}) for url in before}
        self.assertEqual(
            {url: response.status_code for url, response in after.items()},
            {other_url: 304, source_url: 304, tag_url: 200, self.url: 200},
        )

    def test_the_versions_read_are_those_asked_for_with_their_times_as_the_orm_gives_them(self):
        """versioning.current reads the scopes asked for (none: none; a scope nothing has changed:
        absent), each with an aware change time equal to what a queryset reads."""
        versioning.changed(versioning.SHARED, versioning.treaty_scope("other"))
        found = versioning.current([versioning.SHARED, versioning.treaty_scope("never-changed")])
        self.assertEqual(set(found), {versioning.SHARED})
        row = ContentVersion.objects.get(scope=versioning.SHARED)
        self.assertEqual(found[versioning.SHARED], (row.version, row.changed_at))
        self.assertTrue(timezone.is_aware(found[versioning.SHARED][1]))
        self.assertEqual(versioning.current([]), {})
        self.assertEqual(set(versioning.current()), set(ContentVersion.objects.values_list("scope", flat=True)))

    def test_bulk_writes_change_the_version(self):
        """Queryset updates of corpus rows bump the shared version, which every page shows."""
        version = versioning.current()["shared"][0]
        ExcerptLink.objects.filter(provision=self.provision).update(state="rejected")
        self.assertEqual(versioning.current()["shared"][0], version + 1)

    def test_rolled_back_change_does_not_bump(self):
        """A failed import leaves the versions as they were."""
        from treaty_app.importing import CorpusError
        from treaty_app.treaty_text import import_treaty

        versions = versioning.current()
        with self.assertRaises(CorpusError):
            import_treaty("Article 1\nWords.\nArticle 99\nMore.\n", treaty=self.provision.treaty)
        self.assertEqual(versioning.current(), versions)

    def test_logged_in_pages_are_private(self):
        """A logged-in viewer's page is not stored by shared caches."""
        self.client.force_login(self.author)
        self.assertIn("private", self.client.get(self.url)["Cache-Control"])


class PublicQueryCountTests(TestCase):
    def test_provision_page_queries_do_not_grow(self):
        """The public provision page costs the same queries for 10 and 1,000 published annotations, with
        published replies and published annotations on the commentary excerpts beside it."""
        load_corpus()
        provision = Treaty.objects.get().provisions.get(slug="art-4")
        author = make_user("ana")
        curator = make_user("cora", role="Curators", is_staff=True)
        tag = Tag.objects.create(name="t", slug="t")
        excerpt = provision.excerpt_links.approved().first().excerpt
        url = provision.get_absolute_url()

        def grow(count):
            made = make_annotations(provision, author, count, tags=[tag])
            replies = [annotation_row(parent=note, author=author, body="A reply.") for note in made[::10]]
            on_excerpt = [
                annotation_row(excerpt=excerpt, author=author, body="On the excerpt.", exact=excerpt.text[:9],
                               start=0, end=9) for _ in range(max(1, count // 10))
            ]
            rows = Annotation.objects.filter(pk__in=[a.pk for a in [*made, *replies, *on_excerpt]])
            rows.update(review="submitted")
            writes.publish(rows, curator=curator)

        def measure():
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = self.client.get(url)
                elapsed = (time.perf_counter() - started) * 1000
            self.assertEqual(response.status_code, 200)
            return queries, elapsed

        grow(10)
        ten, ten_ms = measure()
        grow(990)
        thousand, thousand_ms = measure()
        self.assertGreater(len(ten), 1, "the page was rendered, not served from the cache")
        self.assertEqual(len(thousand), len(ten), [q["sql"] for q in thousand.captured_queries])
        print(f"\npublic provision page: 10 annotations {len(ten)} queries {ten_ms:.0f} ms; "
              f"1,000 annotations {len(thousand)} queries {thousand_ms:.0f} ms")


class PublicCardCacheTests(TestCase):
    """Whatever a published card shows changes on the page when it changes, through the door people
    use, with the page cache and the card cache both in play (neither is cleared here)."""

    @classmethod
    def setUpTestData(cls):
        load_corpus()
        cls.provision = Treaty.objects.get().provisions.get(slug="art-4")
        cls.author = make_user("ana")
        cls.curator = make_user("cora", role="Curators", is_staff=True)
        cls.tag = Tag.objects.create(name="naval", slug="naval")
        cls.note = published_note(cls.provision, cls.author, cls.curator, "state of war", "First words", [cls.tag])
        cls.url = cls.provision.get_absolute_url()

    def card(self):
        response = self.client.get(self.url)
        html = response.content.decode()
        start = html.index(f'id="annotation-{self.note.pk}"')
        return html[start : html.index("</article>", start)]

    def publish(self):
        writes.publish(Annotation.objects.filter(pk=self.note.pk), curator=self.curator)

    def test_every_change_to_what_a_card_shows_shows(self):
        self.assertIn("First words", self.card())

        value = AssessmentValue.objects.filter(field__slug="strength").order_by("position").first()

        def edit_and_publish():
            note = Annotation.objects.get(pk=self.note.pk)
            writes.edit(note.pk, by=self.author, version=note.version, body="Second words", tags=[self.tag],
                        assessment={"strength": value.slug})
            self.assertNotIn("Second words", self.card(), "an unpublished revision reached the public")
            self.publish()

        def rename_tag():
            tag = Tag.objects.get(pk=self.tag.pk)
            tag.name = "maritime"
            tag.save()

        def rename_author():
            author = type(self.author).objects.get(pk=self.author.pk)
            author.username = "anabel"
            author.save()

        def relabel_value():
            relabelled = AssessmentValue.objects.get(pk=value.pk)
            relabelled.label = "Relabelled strength"
            relabelled.save()  # as the admin does: the page's version moves on; the card's key must too

        def reply_published():
            reply = writes.reply(self.note.pk, author=self.author, body="A reply")
            self.assertNotIn("A reply", self.card(), "an unreviewed reply reached the public")
            writes.publish(Annotation.objects.filter(pk=reply.pk), curator=self.curator)

        def retag_in_admin():
            self.client.force_login(self.curator)
            change = reverse("admin:annotations_annotation_change", args=[self.note.pk])
            self.client.post(change, {"tags": [], "_save": "Save"})
            self.client.logout()

        def wording_changed():
            from treaty_app.treaty_text import import_treaty

            import_treaty("Article 4\nThe Parties shall consult each other.\n", treaty=self.provision.treaty)

        steps = [
            ("edit published", edit_and_publish, "Second words"),
            ("tag renamed", rename_tag, ">maritime<"),
            ("author renamed", rename_author, "anabel"),
            ("assessment value relabelled", relabel_value, "Relabelled strength"),
            ("reply published", reply_published, "A reply"),
            ("tags corrected in the admin", retag_in_admin, None),
            ("words gone", wording_changed, "its words have since changed"),
        ]
        for label, change, shown in steps:
            with self.subTest(label):
                change()
                card = self.card()
                if shown is None:
                    self.assertNotIn("maritime", card)
                else:
                    self.assertIn(shown, card)


    def test_a_card_found_in_the_cache_is_shown_even_if_evicted_before_the_page_renders(self):
        """The card cache is bounded in bytes and a page's new cards go into it while it renders: a card
        the page found there is shown from what it found (a light row alone would be an empty card)."""
        self.assertIn("First words", self.card())  # its card cached now
        cards = caches["cards"]
        found_then_evicted = cards.get_many

        def get_many(keys):
            found = found_then_evicted(keys)
            cards.delete_many(list(found))  # evicted right after the page found them
            return found

        versioning.changed(versioning.SHARED)  # the page itself rendered again
        with mock.patch.object(cards, "get_many", side_effect=get_many):
            card = self.card()
        self.assertIn("First words", card)
        self.assertIn(">naval<", card)


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
        self.assertContains(self.client.get(self.page), f"wording version 1. https://glossa.example{self.page} (accessed")

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
