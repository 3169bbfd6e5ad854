"""Issue 13 §6: creator IRIs (/users/<username>/) resolve to a public page of the person's published
notes, which reveals nothing else: not their unpublished notes, not facts of their account, not
whether an account exists for a name that has published nothing."""

from urllib.parse import urlsplit

from django.core.cache import caches
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotations import writes
from annotations.models import Annotation
from annotations.public import PEOPLE_PAGE_SIZE

from .factories import make_annotations, make_provision, make_treaty, make_user
from .test_threads import annotate, reply

TEXT = "The other Party shall provide military and other assistance with all means in its possession."


class PersonPageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.provision = make_provision(make_treaty(slug="t", short_title="T"), number=4, text=TEXT)
        cls.ana = make_user("ana", first_name="Anastasia", last_name="Private-Surname", email="ana@example.org")
        cls.bob = make_user("bob")
        cls.cora = make_user("cora", role="Curators", is_staff=True)
        cls.note = annotate(cls.provision, cls.ana, cls.cora, "military", "Published-note")
        cls.answer = reply(annotate(cls.provision, cls.bob, cls.cora, "all means", "Bob's note"),
                           cls.ana, cls.cora, "Published-reply")
        start = TEXT.index("assistance")
        for visibility in ("team", "private"):
            writes.create(author=cls.ana, target=cls.provision, start=start, end=start + 10, exact="assistance",
                          body=f"SECRET-{visibility}", visibility=visibility)
        submitted = writes.create(author=cls.ana, target=cls.provision, start=start, end=start + 10,
                                  exact="assistance", body="SECRET-submitted")
        writes.submit(submitted.pk, by=cls.ana)
        hidden = annotate(cls.provision, cls.ana, cls.cora, "possession", "SECRET-hidden")
        writes.hide(Annotation.objects.filter(pk=hidden.pk), curator=cls.cora)
        cls.url = reverse("reader:person", args=["ana"])

    def page(self):
        response = self.client.get(self.url)
        self.assertEqual(response.status_code, 200)
        return response.content.decode()

    def test_it_lists_the_persons_published_note(self):
        self.assertIn("Published-note", self.page())

    def test_it_lists_the_persons_published_reply(self):
        """A published reply is listed, saying which note it answers."""
        self.assertIn("Published-reply", self.page())

    def test_it_links_each_note_in_context(self):
        """Each note links to its permalink on the page that shows it."""
        self.assertIn(f'href="{self.provision.get_absolute_url()}#annotation-{self.note.pk}"', self.page())

    def test_it_shows_nothing_unpublished(self):
        """Team, private, submitted and hidden notes of the person are not on the page, even for a curator."""
        self.client.force_login(self.cora)
        self.assertNotIn("SECRET-", self.page())

    def test_it_shows_no_fact_of_the_account(self):
        """Neither the person's names nor their e-mail address are on the page."""
        page = self.page()
        self.assertEqual([fact for fact in ("Anastasia", "Private-Surname", "ana@example.org") if fact in page], [])

    def test_someone_who_published_nothing_is_the_same_404_as_no_one(self):
        """A curator with no published note and a name no account has get the same 404."""
        nobody = self.client.get(reverse("reader:person", args=["no-such-person"]))
        curator = self.client.get(reverse("reader:person", args=["cora"]))
        self.assertEqual((curator.status_code, curator.content), (404, nobody.content))

    def test_an_analyst_whose_notes_are_all_unpublished_is_a_404(self):
        """Someone with only team notes has no public page."""
        writes.create(author=self.cora, target=self.provision, start=0, end=3, exact="The", body="Team only.")
        self.assertEqual(self.client.get(reverse("reader:person", args=["cora"])).status_code, 404)

    def test_a_nul_in_the_name_is_a_404(self):
        """A name no account can have (a NUL) is a 404, not a database error."""
        self.assertEqual(self.client.get("/users/a%00b/").status_code, 404)

    def test_cards_link_their_author(self):
        """On the provision page, the card and the reply name their authors with a link to their page."""
        html = self.client.get(self.provision.get_absolute_url()).content.decode()
        self.assertEqual((html.count('href="/users/ana/"'), html.count('href="/users/bob/"')), (2, 1))

    def test_the_creator_ids_of_the_public_jsonld_resolve(self):
        """Every creator id in the public JSON-LD names a page that answers 200."""
        items = self.client.get(reverse("reader:annotations-export"), {"page": "1"}).json()["items"]
        creators = {urlsplit(item["creator"]["id"]).path for item in items}
        self.assertEqual({path: self.client.get(path).status_code for path in creators},
                         {"/users/ana/": 200, "/users/bob/": 200})

    def test_a_publication_reaches_a_cached_page(self):
        """A note published after the page was cached is on it."""
        self.page()
        annotate(self.provision, self.ana, self.cora, "other assistance", "Newly published")
        self.assertIn("Newly published", self.page())


class PersonNameTests(TestCase):
    def test_a_name_in_another_script_resolves_from_its_creator_id(self):
        """zoë's creator id (percent-encoded) names her page."""
        provision = make_provision(make_treaty(slug="t"), number=1, text=TEXT)
        zoe, cora = make_user("zoë"), make_user("cora", role="Curators", is_staff=True)
        annotate(provision, zoe, cora, "military", "Her note")
        item, = self.client.get(reverse("reader:annotations-export"), {"page": "1"}).json()["items"]
        self.assertContains(self.client.get(urlsplit(item["creator"]["id"]).path), "Her note")


class PersonPagingTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.provision = make_provision(make_treaty(slug="t"), number=1, text=TEXT)
        cls.ana = make_user("ana")
        cls.url = reverse("reader:person", args=["ana"])

    def publish(self, count):
        """`count` published notes, made as fixtures: no content version moves, so the page cache is emptied."""
        rows = make_annotations(self.provision, self.ana, count)
        Annotation.objects.filter(pk__in=[row.pk for row in rows]).update(visibility="public", review="published")
        caches["default"].clear()

    def count(self, **query):
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(self.client.get(self.url, query).status_code, 200)
        return queries

    def test_queries_do_not_grow_with_notes(self):
        """The page costs the same queries for 1 note and for a full page of them (of 120)."""
        self.publish(1)
        one = len(self.count())
        self.publish(119)
        many = self.count()
        self.assertEqual(len(many), one, [q["sql"] for q in many.captured_queries])

    def test_the_last_page_holds_the_rest(self):
        """With 120 notes, page 3 shows the last 20."""
        self.publish(120)
        response = self.client.get(self.url, {"page": "3"})
        self.assertEqual(len(response.context["page"].object_list), 120 - 2 * PEOPLE_PAGE_SIZE)

    def test_a_page_past_the_last_is_a_404(self):
        self.publish(3)
        self.assertEqual(self.client.get(self.url, {"page": "2"}).status_code, 404)
