"""Placing an annotation again after the wording changed: by its author in the workspace, by a curator in the admin."""

from django.test import TestCase
from django.urls import reverse

from annotations.models import Annotation
from treaty_app.treaty_text import import_treaty
from treaty_app.models import Excerpt

from .factories import annotation_row, make_annotation, make_provision, make_source, make_treaty, make_user
from .pagetext import text_content

OLD = (
    "In the event that one of the Parties is subjected to an armed attack by an individual country or several "
    "countries and thus finds itself in a state of war, the other Party shall immediately provide military and "
    "other assistance with all means in its possession in accordance with Article 51 of the UN Charter."
)
# Characters that UTF-16 and code points count differently come before the words placed on: an emoji flag
# (two surrogate pairs), Cyrillic, Korean.
NEW = (
    "Should either Party 🇰🇵 (Корея, 조선) be attacked and find itself at war, the other Party will at once give "
    "military and other assistance with all means in its possession, as Article 51 of the UN Charter allows."
)
ORPHAN = "in accordance with Article 51 of the UN Charter"
FUZZY = "the other Party shall immediately provide military"
TARGET = "Article 51 of the UN Charter"
PROPOSED = "the other Party will at once give military"


class PlacingTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.treaty = make_treaty(slug="t", short_title="T")
        cls.provision = make_provision(cls.treaty, number=4, text=OLD)
        cls.author = make_user("ana")
        cls.other = make_user("bob")
        cls.curator = make_user("cora", role="Curators", is_staff=True)
        start = OLD.index(ORPHAN)
        cls.annotation = make_annotation(cls.provision, cls.author, start, start + len(ORPHAN), body="Self-defence.")
        cls.private = make_annotation(cls.provision, cls.author, start, start + len(ORPHAN), visibility="private")
        start = OLD.index(FUZZY)
        cls.anchored = make_annotation(cls.provision, cls.author, start, start + len(FUZZY))
        import_treaty(f"Article 4\n{NEW}\n", treaty=cls.treaty)
        cls.provision.refresh_from_db()
        # As the re-anchoring leaves one it placed by a close match.
        start = NEW.index(PROPOSED)
        Annotation.objects.filter(pk=cls.anchored.pk).update(
            placement="fuzzy", start=start, end=start + len(PROPOSED), exact=PROPOSED, anchored_text=OLD
        )
        cls.start = NEW.index(TARGET)
        cls.end = cls.start + len(TARGET)

    def setUp(self):
        self.annotation.refresh_from_db()
        self.anchored.refresh_from_db()

    def url(self, annotation=None):
        return reverse("annotations:place", args=[(annotation or self.annotation).pk])

    def admin_url(self, annotation=None):
        return reverse("admin:annotations_annotation_place", args=[(annotation or self.annotation).pk])

    def offsets(self, **extra):
        return {"words": TARGET, "start": self.start, "end": self.end, "version": self.annotation.version} | extra

    def assert_unchanged(self):
        before = self.annotation.history.count()
        placement, version = self.annotation.placement, self.annotation.version
        self.annotation.refresh_from_db()
        self.assertEqual((self.annotation.placement, self.annotation.version), (placement, version))
        self.assertIsNone(self.annotation.start)
        self.assertEqual(self.annotation.history.count(), before)

    def assert_placed(self, user):
        self.annotation.refresh_from_db()
        self.assertEqual(self.annotation.placement, "anchored")
        self.assertEqual((self.annotation.start, self.annotation.end, self.annotation.exact), (self.start, self.end, TARGET))
        self.assertEqual(self.annotation.text_version, self.provision.text_version)
        self.assertEqual(self.annotation.anchored_text, "")
        record = self.annotation.history.first()
        self.assertEqual(record.history_user, user)
        self.assertEqual(record.history_change_reason, "Placed again on the new wording")


class SetUpTests(PlacingTestCase):
    def test_the_new_wording_orphans_the_annotation(self):
        self.assertEqual(self.annotation.placement, "drifted")
        self.assertEqual(self.anchored.placement, "fuzzy")
        # Offsets in code points differ from the browser's UTF-16 ones here.
        self.assertNotEqual(self.start, len(NEW[: self.start].encode("utf-16-le")) // 2)


class AuthorTests(PlacingTestCase):
    def setUp(self):
        super().setUp()
        self.client.force_login(self.author)

    def test_page_shows_old_and_new_wording(self):
        response = self.client.get(self.url())
        self.assertContains(response, f'<mark class="old-quote">{ORPHAN}</mark>', html=True)
        self.assertContains(response, "Корея, 조선")
        self.assertContains(response, 'data-place-wording')
        self.assertContains(response, 'name="start"')
        self.assertContains(response, "js/placing.js")
        self.assertContains(response, "Place here")

    def test_new_wording_element_holds_the_stored_text(self):
        """The element words are selected in has the new wording as its text, with or without a proposed place,
        so that placing.js counts offsets in the same string the server checks them against."""
        for annotation in [self.annotation, self.anchored]:
            with self.subTest(placement=annotation.placement):
                response = self.client.get(self.url(annotation))
                self.assertEqual(text_content(response.content, "new-wording"), NEW)

    def test_workspace_card_links_to_the_page(self):
        response = self.client.get(reverse("annotations:workspace", args=["t", "art-4"]))
        self.assertContains(response, f'href="{self.url()}"')
        self.assertContains(response, "Place again")
        self.assertContains(response, f'href="{self.url(self.anchored)}"')  # fuzzy: “Check its new place”

    def test_places_by_offsets(self):
        version = self.annotation.version
        response = self.client.post(self.url(), self.offsets())
        workspace = reverse("annotations:workspace", args=["t", "art-4"])
        self.assertRedirects(response, f"{workspace}#annotation-{self.annotation.pk}", fetch_redirect_response=False)
        self.assert_placed(self.author)
        self.assertEqual(self.annotation.version, version + 1)
        page = self.client.get(workspace)
        self.assertContains(page, "Placed again on")

    def test_places_by_typed_words(self):
        """Without JavaScript: words only, found by the server."""
        self.client.post(self.url(), {"words": TARGET})
        self.assert_placed(self.author)

    def test_typed_words_not_found_or_ambiguous(self):
        for words, message in [("not in the text", "not in the new wording"), ("Party", "occur 2 times")]:
            with self.subTest(words=words):
                response = self.client.post(self.url(), {"words": words})
                self.assertContains(response, message, status_code=422)
                self.assert_unchanged()

    def test_words_that_do_not_stand_at_the_offsets(self):
        for data in [
            self.offsets(words="Article 51 of the UN"),
            self.offsets(start=self.start + 1, end=self.end + 1),
            self.offsets(words="Party"),
        ]:
            with self.subTest(data=data):
                response = self.client.post(self.url(), data)
                self.assertContains(response, "are not the words at that place", status_code=422)
                self.assert_unchanged()

    def test_bad_offsets_are_a_422_not_a_500(self):
        length = len(NEW)
        for extra in [
            {"start": "x"}, {"end": "1.5"}, {"start": -1}, {"end": length + 1}, {"start": self.end, "end": self.start},
            {"start": self.start, "end": self.start}, {"end": ""}, {"start": ""}, {"start": "9" * 40},
            {"words": ""}, {"version": "v"},
        ]:
            with self.subTest(extra=extra):
                response = self.client.post(self.url(), self.offsets(**extra))
                self.assertEqual(response.status_code, 422)
                self.assert_unchanged()
        response = self.client.post(self.url(), {})
        self.assertEqual(response.status_code, 422)

    def test_a_stale_version_is_refused(self):
        """Someone saved the annotation after the page was loaded: nothing is overwritten."""
        Annotation.objects.filter(pk=self.annotation.pk).update(version=5)
        response = self.client.post(self.url(), self.offsets(version=1))
        self.assertContains(response, "Someone changed this annotation", status_code=409)
        self.annotation.refresh_from_db()
        self.assertEqual((self.annotation.version, self.annotation.start), (5, None))
        self.assertContains(response, 'name="version" value="5"', status_code=409)

    def test_confirm_a_close_match(self):
        response = self.client.get(self.url(self.anchored))
        self.assertContains(response, "Confirm the close-match place")
        self.assertContains(response, f'<mark class="proposed">{PROPOSED}</mark>', html=True)
        self.client.post(self.url(self.anchored), {"confirm": ""})
        self.anchored.refresh_from_db()
        self.assertEqual(self.anchored.placement, "anchored")
        self.assertEqual(self.anchored.history.first().history_user, self.author)
        self.assertEqual(self.anchored.history.first().history_change_reason, "Close-match placement confirmed")

    def test_confirm_only_a_close_match(self):
        response = self.client.post(self.url(), {"confirm": ""})
        self.assertEqual(response.status_code, 409)
        self.assert_unchanged()

    def test_nothing_to_place(self):
        """An anchored annotation, a deleted one, a reply, one on an excerpt: a 4xx, never a 500."""
        Annotation.objects.filter(pk=self.anchored.pk).update(placement="anchored")
        self.assertContains(self.client.get(self.url(self.anchored)), "in its place already", status_code=409)
        self.assertEqual(self.client.post(self.url(self.anchored), {"words": "Party"}).status_code, 409)
        reply = annotation_row(parent=self.annotation, author=self.author, body="A reply.")
        source = make_source("A commentary on Article 51.")
        excerpt = Excerpt.objects.create(source=source, start=0, end=len(source.body), text=source.body)
        on_excerpt = annotation_row(excerpt=excerpt, author=self.author, body="x", exact="commentary",
                                               placement="drifted")
        for annotation in (reply, on_excerpt):
            with self.subTest(annotation=annotation):
                self.assertEqual(self.client.get(self.url(annotation)).status_code, 404)
                self.assertEqual(self.client.post(self.url(annotation), {"words": "Party"}).status_code, 404)
        Annotation.objects.filter(pk=self.annotation.pk).update(deleted_at="2024-06-19T00:00:00Z")
        self.assertEqual(self.client.post(self.url(), self.offsets()).status_code, 404)
        self.assertEqual(self.client.get(reverse("annotations:place", args=[999_999])).status_code, 404)


class AccessTests(PlacingTestCase):
    def test_another_analyst(self):
        """Another analyst may not place a team annotation (403) and does not learn of a private one (404)."""
        self.client.force_login(self.other)
        self.assertEqual(self.client.get(self.url()).status_code, 403)
        self.assertEqual(self.client.post(self.url(), self.offsets()).status_code, 403)
        self.assertEqual(self.client.get(self.url(self.private)).status_code, 404)
        self.assertEqual(self.client.post(self.url(self.private), {"words": TARGET}).status_code, 404)
        self.assert_unchanged()
        workspace = self.client.get(reverse("annotations:workspace", args=["t", "art-4"]))
        self.assertNotContains(workspace, f'href="{self.url()}"')

    def test_anonymous_and_roleless_users(self):
        response = self.client.post(self.url(), self.offsets())
        self.assertEqual(response.status_code, 302)
        self.assertIn(reverse("login"), response["Location"])
        self.client.force_login(make_user("nobody", role=None))
        self.assertEqual(self.client.post(self.url(), self.offsets()).status_code, 403)
        self.assert_unchanged()

    def test_a_curator_in_the_workspace(self):
        """A curator may place anyone's team annotation; another person's private one is not theirs to
        read, so it answers 404 (as a missing one does) and its words stay unseen."""
        self.client.force_login(self.curator)
        self.private.refresh_from_db()
        private_before = (self.private.placement, self.private.version)
        self.client.post(self.url(), {"words": TARGET})
        self.annotation.refresh_from_db()
        self.assertEqual((self.annotation.placement, self.annotation.exact), ("anchored", TARGET))
        self.assertEqual(self.annotation.history.first().history_user, self.curator)
        response = self.client.get(self.url(self.private))
        self.assertEqual(response.status_code, 404)
        self.assertNotContains(response, self.private.body, status_code=404)
        self.assertEqual(self.client.post(self.url(self.private), {"words": TARGET}).status_code, 404)
        self.private.refresh_from_db()
        self.assertEqual((self.private.placement, self.private.version), private_before)


class AdminTests(PlacingTestCase):
    def setUp(self):
        super().setUp()
        self.client.force_login(self.curator)

    def test_curator_places_by_offsets(self):
        page = self.client.get(self.admin_url())
        self.assertContains(page, "data-place-wording")
        self.assertContains(page, "js/selection.js")
        response = self.client.post(self.admin_url(), self.offsets())
        change = reverse("admin:annotations_annotation_change", args=[self.annotation.pk])
        self.assertRedirects(response, change, fetch_redirect_response=False)
        self.assert_placed(self.curator)
        self.assertContains(self.client.get(change), "Placed again on")

    def test_curator_mistakes(self):
        for data in [self.offsets(words="UN Charter"), self.offsets(start="a"), self.offsets(end=10_000),
                     {"words": "nowhere"}]:
            with self.subTest(data=data):
                self.assertEqual(self.client.post(self.admin_url(), data).status_code, 422)
                self.assert_unchanged()

    def test_nothing_to_place(self):
        Annotation.objects.filter(pk=self.anchored.pk).update(placement="anchored")
        response = self.client.post(self.admin_url(self.anchored), {"words": "Party"})
        self.assertContains(response, "in its place already", status_code=409)
        reply = annotation_row(parent=self.annotation, author=self.author, body="A reply.")
        self.assertContains(self.client.get(self.admin_url(reply)), "can be placed again", status_code=409)
        Annotation.objects.filter(pk=self.annotation.pk).update(deleted_at="2024-06-19T00:00:00Z")
        self.assertContains(self.client.post(self.admin_url(), self.offsets()), "restore it first", status_code=409)
        self.assertEqual(self.client.get(reverse("admin:annotations_annotation_place", args=[999_999])).status_code, 404)

    def test_retire_from_the_page(self):
        response = self.client.post(
            reverse("admin:annotations_annotation_changelist"),
            {"action": "retire", "_selected_action": [self.annotation.pk]},
        )
        self.assertEqual(response.status_code, 302)
        self.annotation.refresh_from_db()
        self.assertIsNotNone(self.annotation.deleted_at)
        record = self.annotation.history.first()
        self.assertEqual((record.history_user, record.history_change_reason),
                         (self.curator, "Retired: it cannot be placed again"))

    def test_analysts_are_sent_away(self):
        self.client.force_login(self.author)
        self.client.post(self.admin_url(), self.offsets())
        self.assert_unchanged()


class CandidateTests(PlacingTestCase):
    """The place page proposes the search's best places, with their context, to accept with one click,
    and shows what changed in the wording."""

    def setUp(self):
        super().setUp()
        self.client.force_login(self.author)

    def test_the_proposed_place_is_shown_and_taken_with_one_click(self):
        page = self.client.get(self.url())
        proposed = "as Article 51 of the UN Charter"
        start = NEW.index(proposed)
        self.assertContains(page, f'<mark class="proposed">{proposed}</mark> allows.…', html=False)
        self.assertContains(page, f'<input type="hidden" name="start" value="{start}">', html=True)
        self.assertContains(page, "<del>possession in accordance with</del> <ins>possession, as</ins>", html=False)
        response = self.client.post(self.url(), {"words": proposed, "start": start, "end": start + len(proposed),
                                                 "version": self.annotation.version, "place": ""})
        self.assertEqual(response.status_code, 302)
        self.annotation.refresh_from_db()
        self.assertEqual((self.annotation.placement, NEW[self.annotation.start:self.annotation.end]), ("anchored", proposed))
        self.assertEqual(self.annotation.original_exact, ORPHAN)

    def test_the_words_it_was_made_on_are_kept_after_a_close_match(self):
        """A close-match placement moved `exact` to the new words; the page names the words it was made on."""
        page = self.client.get(self.url(self.anchored))
        self.assertContains(page, f"The annotation on “{FUZZY}”")
        self.assertContains(page, f'<mark class="old-quote">{FUZZY}</mark>', html=True)
        self.assertNotContains(page, "(not kept)")
