"""Issue 10's promises, each through every door that could break it: the workspace (HTMX and plain
posts), the admin's actions, change form and history revert, and the commands.

* Only a curator's publication makes anything public: edits of published notes wait as revisions,
  replies to published notes wait for review, the admin change form cannot publish.
* A history revert restores body, tags and visibility, never the anchor nor the edit counter.
* One read rule: a reply to a note one may not read is not readable; another person's private note
  answers 404 like a missing one; submit and undo are the author's.
* Every annotation save happens in annotations/writes.py.
"""

import re
from pathlib import Path

from django.test import TestCase
from django.urls import reverse

from annotations import writes
from annotations.models import Annotation, Tag
from treaty_app.treaty_text import import_treaty

from .factories import make_provision, make_treaty, make_user

TEXT = (
    "In the event that one of the Parties is subjected to an armed attack by an individual country or several "
    "countries and thus finds itself in a state of war, the other Party shall immediately provide military and "
    "other assistance with all means in its possession."
)
WORDS = "state of war"
HTMX = {"HX-Request": "true"}
CHANGELIST = "admin:annotations_annotation_changelist"
ROOT = Path(__file__).resolve().parent.parent


class WriteTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.treaty = make_treaty(slug="t", short_title="T")
        cls.provision = make_provision(cls.treaty, number=4, text=TEXT)
        cls.ana = make_user("ana")
        cls.bob = make_user("bob")
        cls.cora = make_user("cora", role="Curators", is_staff=True)
        cls.tag = Tag.objects.create(name="alliance", slug="alliance")
        cls.public_url = cls.provision.get_absolute_url()
        cls.workspace_url = reverse("annotations:workspace", args=["t", "art-4"])

    def note(self, body="Published words.", *, author=None, words=WORDS, visibility="team"):
        start = TEXT.index(words)
        return writes.create(
            author=author or self.ana, target=self.provision, start=start, end=start + len(words), exact=words,
            body=body, tags=[self.tag], visibility=visibility,
        )

    def published(self, body="Published words."):
        note = self.note(body)
        writes.submit(note.pk, by=self.ana)
        writes.publish(Annotation.objects.filter(pk=note.pk), curator=self.cora)
        return Annotation.objects.get(pk=note.pk)

    def public_page(self):
        self.client.logout()
        return self.client.get(self.public_url).content.decode()

    def act(self, action, ids, **extra):
        self.client.force_login(self.cora)
        return self.client.post(reverse(CHANGELIST), {"action": action, "_selected_action": ids, **extra}, follow=True)


class PublicationHoldsTests(WriteTestCase):
    def edit_through(self, door, note, body):
        self.client.force_login(self.ana)
        url = reverse("annotations:edit", args=[note.pk])
        data = {"body": body, "tags": [self.tag.pk], "version": note.version}
        headers = HTMX if door == "htmx" else {}
        return self.client.post(url, data, headers=headers)

    def test_an_edit_of_a_published_note_waits_for_a_curator(self):
        """Through HTMX and a plain post alike, an author's edit of a published note is a pending
        revision: the public page, search and JSON-LD keep the published wording until a curator
        publishes the revision; the review queue shows both; then the public sees the new words."""
        for door in ("htmx", "plain"):
            with self.subTest(door):
                note = self.published(f"Published words ({door}).")
                response = self.edit_through(door, note, f"Unreviewed words ({door}).")
                self.assertEqual(response.status_code, 200 if door == "htmx" else 302)
                note.refresh_from_db()
                self.assertEqual((note.visibility, note.review, note.body), ("public", "submitted", f"Published words ({door})."))
                self.assertEqual(note.revision_body, f"Unreviewed words ({door}).")
                unreviewed = f"Unreviewed words ({door})."
                page = self.public_page()
                self.assertIn(f"Published words ({door}).", page)
                self.assertNotIn(unreviewed, page)
                search = self.client.get(reverse("reader:search"), {"q": f"unreviewed {door}"}).content.decode()
                self.assertNotIn(f"Unreviewed words ({door})", search)
                jsonld = self.client.get(reverse("reader:provision-annotations", args=["t", "art-4"])).content.decode()
                self.assertNotIn(unreviewed, jsonld)

                self.client.force_login(self.cora)
                queue = self.client.get(reverse(CHANGELIST), {"review": "submitted"}).content.decode()
                self.assertIn("<del>", queue)
                self.assertIn("Unreviewed", queue)
                self.client.force_login(self.ana)
                self.assertIn("Revision awaiting review", self.client.get(self.workspace_url).content.decode())

                self.act("publish", [note.pk])
                note.refresh_from_db()
                self.assertEqual((note.body, note.revision_body, note.review), (f"Unreviewed words ({door}).", "", "published"))
                self.assertIn(f"Unreviewed words ({door}).", self.public_page())

    def test_a_revision_sent_back_leaves_the_published_wording_public(self):
        """Sending back a revision returns it to its author; the published wording stays public."""
        note = self.published()
        self.edit_through("plain", note, "A rejected rewrite.")
        self.act("send_back", [note.pk], reason="Keep the first wording.")
        note.refresh_from_db()
        self.assertEqual((note.visibility, note.review, note.revision_body), ("public", "returned", "A rejected rewrite."))
        page = self.public_page()
        self.assertIn("Published words.", page)
        self.assertNotIn("A rejected rewrite.", page)

    def test_editing_back_to_the_published_wording_withdraws_the_revision(self):
        note = self.published()
        self.edit_through("plain", note, "Second thoughts.")
        note.refresh_from_db()
        self.edit_through("plain", note, "Published words.")
        note.refresh_from_db()
        self.assertEqual((note.review, note.revision_at, note.revision_body), ("published", None, ""))

    def test_a_reply_to_a_published_note_waits_for_review_then_shows_under_it(self):
        """A reply to a published note is seen by the team and waits in the queue; once published it
        shows under its note on the public page, replies in the order they were written."""
        note = self.published()
        self.client.force_login(self.bob)
        for body in ("First reply.", "Second reply."):
            self.client.post(reverse("annotations:reply", args=[note.pk]), {"body": body})
        replies = list(Annotation.objects.filter(parent=note).order_by("pk"))
        self.assertEqual([(r.visibility, r.review) for r in replies], [("team", "submitted")] * 2)
        self.assertNotIn("First reply.", self.public_page())
        self.client.force_login(self.ana)
        self.assertIn("First reply.", self.client.get(self.workspace_url).content.decode())

        self.act("publish", [reply.pk for reply in replies])
        page = self.public_page()
        card = page[page.index(f'id="annotation-{note.pk}"'):]
        self.assertLess(card.index("First reply."), card.index("Second reply."))

    def test_a_reply_is_not_published_before_its_note(self):
        note = self.note()
        reply = writes.reply(note.pk, author=self.bob, body="Early reply.")
        Annotation.objects.filter(pk=reply.pk).update(review="submitted")
        response = self.act("publish", [reply.pk])
        self.assertContains(response, "Nothing published")
        self.assertEqual(Annotation.objects.get(pk=reply.pk).visibility, "team")

    def test_the_admin_change_form_cannot_publish(self):
        """The change form has no visibility or review field: a forged post changes neither."""
        note = self.note()
        self.client.force_login(self.cora)
        change = reverse("admin:annotations_annotation_change", args=[note.pk])
        form = self.client.get(change).content.decode()
        self.assertNotIn('name="visibility"', form)
        self.client.post(change, {"visibility": "public", "review": "published", "tags": [self.tag.pk], "_save": "Save"})
        note.refresh_from_db()
        self.assertEqual((note.visibility, note.review), ("team", "none"))
        self.assertNotIn("Published words.", self.public_page())

    def test_publishing_needs_a_submission(self):
        """A curator's Publish action leaves a note that was never submitted as it is."""
        note = self.note()
        response = self.act("publish", [note.pk])
        self.assertContains(response, "Nothing published")
        note.refresh_from_db()
        self.assertEqual(note.visibility, "team")

    def test_a_private_note_cannot_be_made_public_by_its_author(self):
        """Visibility `public` is refused on create and on edit, HTMX or not."""
        self.client.force_login(self.ana)
        start = TEXT.index(WORDS)
        create = reverse("annotations:create", args=["t", "art-4"])
        data = {"exact": WORDS, "start": start, "end": start + len(WORDS), "body": "x", "visibility": "public"}
        self.assertEqual(self.client.post(create, data, headers=HTMX).status_code, 422)
        note = self.note()
        edit = reverse("annotations:edit", args=[note.pk])
        self.assertEqual(self.client.post(edit, {"body": "x", "visibility": "public", "version": note.version}).status_code, 422)
        self.assertFalse(Annotation.objects.filter(visibility="public").exists())


class HistoryRevertTests(WriteTestCase):
    def test_a_revert_restores_the_words_of_the_note_never_its_anchor(self):
        """After the wording changed, reverting to the first version brings back its body and tags
        but keeps the anchor on today's words, and the edit counter moves on."""
        note = self.note("First body.")
        writes.edit(note.pk, by=self.ana, version=note.version, body="Second body.", tags=[])
        import_treaty(f"Article 4\nAs amended: {TEXT}\n", treaty=self.treaty)
        note.refresh_from_db()
        new_text = type(self.provision).objects.get(pk=self.provision.pk).text
        self.assertEqual(new_text[note.start:note.end], WORDS)
        version = note.version
        first = note.history.order_by("history_date").first()

        self.client.force_login(self.cora)
        url = reverse("admin:annotations_annotation_simple_history", args=[note.pk, first.pk])
        self.client.post(url, {"tags": [], "_save": "Save"})
        note.refresh_from_db()
        self.assertEqual(note.body, "First body.")
        self.assertEqual([tag.pk for tag in note.tags.all()], [self.tag.pk])
        self.assertEqual(new_text[note.start:note.end], WORDS)
        self.assertEqual(note.version, version + 1)
        self.assertEqual(note.history.latest("history_date").history_user, self.cora)

    def test_reverting_a_published_note_makes_a_revision_not_a_publication(self):
        note = self.published("Published words.")
        first = note.history.order_by("history_date").first()
        writes.revert(note.pk, by=self.cora, history_id=first.pk)
        note.refresh_from_db()
        self.assertEqual((note.body, note.review), ("Published words.", "submitted"))

    def test_reverting_never_restores_a_public_visibility(self):
        """A note published once, then withdrawn: reverting to its published version leaves it unpublished."""
        note = self.published()
        writes.send_back(Annotation.objects.filter(pk=note.pk), curator=self.cora, reason="Withdrawn.")
        published_record = note.history.filter(visibility="public").order_by("history_date").first()
        writes.revert(note.pk, by=self.cora, history_id=published_record.pk)
        note.refresh_from_db()
        self.assertEqual(note.visibility, "team")
        self.assertNotIn("Published words.", self.public_page())

    def test_history_of_another_persons_private_note_is_not_shown(self):
        private = self.note("My secret.", visibility="private")
        self.client.force_login(self.cora)
        record = private.history.first()
        pages = {
            reverse("admin:annotations_annotation_history", args=[private.pk]): 404,
            reverse("admin:annotations_annotation_simple_history", args=[private.pk, record.pk]): 404,
            # The admin's answer to an object outside its queryset: back to the index, "does not exist".
            reverse("admin:annotations_annotation_change", args=[private.pk]): 302,
        }
        for url, status in pages.items():
            with self.subTest(url):
                response = self.client.get(url)
                self.assertEqual(response.status_code, status)
                self.assertNotContains(response, "My secret.", status_code=status)


class ReadRuleTests(WriteTestCase):
    def test_a_reply_to_a_note_that_became_private_is_not_readable(self):
        """Bob replied to Ana's team note; Ana makes it private: nobody but Ana reads the note or the
        replies to it, not even Bob his own reply."""
        note = self.note("Team first.")
        reply = writes.reply(note.pk, author=self.bob, body="Bob's reply.")
        writes.edit(note.pk, by=self.ana, version=note.version, body="Team first.", tags=[self.tag], visibility="private")
        self.assertFalse(Annotation.objects.readable_by(self.cora).filter(pk__in=[note.pk, reply.pk]).exists())
        self.assertFalse(Annotation.objects.readable_by(self.bob).filter(pk__in=[note.pk, reply.pk]).exists())
        self.assertEqual(set(Annotation.objects.readable_by(self.ana).filter(pk__in=[note.pk, reply.pk])
                             .values_list("pk", flat=True)), {note.pk, reply.pk})
        self.client.force_login(self.cora)
        self.assertNotContains(self.client.get(self.workspace_url), "Bob's reply.")

    def test_replying_to_someone_elses_private_note_is_a_404(self):
        private = self.note("Ana only.", visibility="private")
        self.client.force_login(self.bob)
        self.assertEqual(self.client.post(reverse("annotations:reply", args=[private.pk]), {"body": "Hi"}).status_code, 404)
        self.assertFalse(Annotation.objects.filter(parent=private).exists())

    def test_someone_elses_private_note_answers_like_a_missing_one(self):
        """Edit, delete, submit and place of another person's private note answer 404, exactly as a
        note that does not exist does; a team note of someone else answers 403."""
        private = self.note("Ana only.", visibility="private")
        team = self.note("Ana's team note.")
        missing = Annotation.objects.order_by("-pk").first().pk + 100
        self.client.force_login(self.bob)
        for name, method in (("edit", "get"), ("delete", "post"), ("submit", "post"), ("place", "get")):
            with self.subTest(name):
                statuses = [getattr(self.client, method)(reverse(f"annotations:{name}", args=[pk])).status_code
                            for pk in (private.pk, missing)]
                self.assertEqual(statuses, [404, 404])
        self.assertEqual(self.client.post(reverse("annotations:submit", args=[team.pk])).status_code, 403)

    def test_submit_and_undo_are_the_authors(self):
        note = self.note()
        self.client.force_login(self.bob)
        self.assertEqual(self.client.post(reverse("annotations:submit", args=[note.pk])).status_code, 403)
        writes.delete(note.pk, by=self.ana)
        self.assertEqual(self.client.post(reverse("annotations:restore", args=[note.pk])).status_code, 403)
        note.refresh_from_db()
        self.assertEqual(note.review, "none")
        self.assertIsNotNone(note.deleted_at)

    def test_an_author_cannot_bring_back_what_a_curator_retired(self):
        note = self.note()
        writes.retire(Annotation.objects.filter(pk=note.pk), curator=self.cora)
        self.client.force_login(self.ana)
        self.assertEqual(self.client.post(reverse("annotations:restore", args=[note.pk])).status_code, 403)
        self.assertIsNotNone(Annotation.objects.get(pk=note.pk).deleted_at)

    def test_curators_see_others_private_notes_only_as_a_count(self):
        """The changelist lists no other person's private note, nor finds one by its words, and says how many there are."""
        self.note("A secret plan.", visibility="private")
        self.note("A team note.")
        self.client.force_login(self.cora)
        listing = self.client.get(reverse(CHANGELIST))
        self.assertContains(listing, "A team note.")
        self.assertNotContains(listing, "A secret plan.")
        self.assertContains(listing, "1 private annotation of analysts is not listed")
        found = self.client.get(reverse(CHANGELIST), {"q": "secret"})
        self.assertNotContains(found, "A secret plan.")
        self.assertContains(found, "0 annotations")

    def test_the_tag_page_filter_is_one_treatys(self):
        """`?provision=art-4` means one treaty's Article 4: with two treaties it is asked with ?treaty=."""
        other = make_provision(make_treaty(slug="u"), number=4, text=TEXT)
        mine = self.published("On the first treaty.")
        theirs = writes.create(author=self.ana, target=other, start=0, end=12, exact=TEXT[:12], body="On the second.",
                               tags=[self.tag])
        writes.submit(theirs.pk, by=self.ana)
        writes.publish(Annotation.objects.filter(pk=theirs.pk), curator=self.cora)
        url = reverse("reader:tag", args=["alliance"])
        self.assertEqual(self.client.get(url, {"provision": "art-4"}).status_code, 404)
        page = self.client.get(url, {"treaty": "t", "provision": "art-4"}).content.decode()
        self.assertIn("On the first treaty.", page)
        self.assertNotIn("On the second.", page)
        self.assertIn(mine.body, page)


class OneDoorTests(TestCase):
    WRITE = re.compile(
        r"Annotation\.objects\.(?:[a-z_]+\(.*?\)\.)*(?:update|bulk_create|bulk_update|create|delete)\(|"
        r"annotation\.save\(|\.tags\.(?:set|add|remove|clear)\("
    )

    def test_no_annotation_is_saved_outside_the_write_module(self):
        """grep for saves, updates and bulk writes of annotations: only annotations/writes.py has them."""
        offenders = []
        for path in [*ROOT.glob("annotations/**/*.py"), *ROOT.glob("treaty_app/**/*.py")]:
            if "migrations" in path.parts or path.name == "writes.py":
                continue
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                if self.WRITE.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
        self.assertEqual(offenders, [])
