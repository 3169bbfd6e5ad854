from django.core.exceptions import ValidationError
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotations import writes
from annotations.models import Annotation, Tag
from treaty_app.treaty_text import import_treaty

from .factories import make_annotation, make_annotations, make_excerpt, make_provision, make_source, make_treaty, make_user

TEXT = (
    "In the event that one of the Parties is subjected to an armed attack by an individual country or several "
    "countries and thus finds itself in a state of war, the other Party shall immediately provide military and "
    "other assistance with all means in its possession."
)
QUOTE = "and thus finds itself in a state of war"
CHANGELIST = "admin:annotations_annotation_changelist"


class CurationTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.treaty = make_treaty(slug="t", short_title="T")
        cls.provision = make_provision(cls.treaty, number=4, text=TEXT)
        cls.analyst = make_user("ana")
        cls.curator = make_user("cora", role="Curators", is_staff=True)
        start = TEXT.index(QUOTE)
        cls.annotation = make_annotation(cls.provision, cls.analyst, start, start + len(QUOTE), body="Why it matters.")
        cls.public_url = cls.provision.get_absolute_url()
        cls.workspace_url = reverse("annotations:workspace", args=["t", "art-4"])

    def act(self, action, ids, **extra):
        self.client.force_login(self.curator)
        return self.client.post(reverse(CHANGELIST), {"action": action, "_selected_action": ids, **extra}, follow=True)


class PublicationWorkflowTests(CurationTestCase):
    def test_submit_publish_hide_through_the_admin(self):
        """Submitted in the workspace, published from the admin queue, then hidden: the public page follows."""
        self.client.force_login(self.analyst)
        self.client.post(reverse("annotations:submit", args=[self.annotation.pk]))
        self.client.force_login(self.curator)
        queue = self.client.get(reverse(CHANGELIST), {"review": "submitted"})
        self.assertContains(queue, QUOTE[:40])
        self.assertContains(queue, "Article 4")
        self.client.logout()
        self.assertNotContains(self.client.get(self.public_url), "Why it matters.")

        self.act("publish", [self.annotation.pk])
        self.annotation.refresh_from_db()
        self.assertEqual((self.annotation.visibility, self.annotation.review), ("public", "published"))
        self.client.logout()
        self.assertContains(self.client.get(self.public_url), "Why it matters.")

        self.act("hide", [self.annotation.pk])
        self.client.logout()
        self.assertNotContains(self.client.get(self.public_url), "Why it matters.")

    def test_send_back_with_a_reason_the_author_sees(self):
        """A curator sends an annotation back with a reason; its author reads it in the workspace."""
        writes.submit(self.annotation.pk, by=self.analyst)
        self.act("send_back", [self.annotation.pk], reason="Cite the 1961 treaty's wording.")
        self.annotation.refresh_from_db()
        self.assertEqual(self.annotation.review, "returned")
        self.client.force_login(self.analyst)
        response = self.client.get(self.workspace_url)
        self.assertContains(response, "Cite the 1961 treaty")
        self.assertContains(response, "Submit for publication")

    def test_send_back_needs_a_reason(self):
        """Without a reason nothing is sent back, and the curator is told why."""
        writes.submit(self.annotation.pk, by=self.analyst)
        response = self.act("send_back", [self.annotation.pk], reason="")
        self.assertContains(response, "Say why in the reason box")
        self.annotation.refresh_from_db()
        self.assertEqual(self.annotation.review, "submitted")

    def test_analysts_cannot_publish(self):
        """An analyst can neither reach the admin nor publish through the workspace."""
        self.client.force_login(self.analyst)
        response = self.client.post(reverse(CHANGELIST), {"action": "publish", "_selected_action": [self.annotation.pk]})
        self.assertEqual(response.status_code, 302)
        self.annotation.refresh_from_db()
        self.assertEqual(self.annotation.visibility, "team")

    def test_bulk_publish(self):
        """Many submitted annotations are published in one action; those never submitted are not."""
        made = make_annotations(self.provision, self.analyst, 20)
        Annotation.objects.filter(pk__in=[a.pk for a in made[:15]]).update(review="submitted")
        response = self.act("publish", [a.pk for a in made])
        self.assertContains(response, "15 published.")
        self.assertEqual(Annotation.objects.published().count(), 15)


class ActionMessageTests(CurationTestCase):
    def test_an_action_that_did_something_succeeds_and_one_that_did_nothing_says_why(self):
        def messages_of(response):
            return [(m.level_tag, str(m)) for m in response.context["messages"]]

        self.client.force_login(self.analyst)
        self.client.post(reverse("annotations:submit", args=[self.annotation.pk]), follow=True)  # its own message
        self.assertEqual(messages_of(self.act("publish", [self.annotation.pk])), [("success", "1 published.")])
        self.assertEqual(
            messages_of(self.act("publish", [self.annotation.pk])),
            [("warning", "Nothing published: none of them was submitted for publication (a reply waits for its note).")],
        )
        self.assertEqual(
            messages_of(self.act("unhide", [self.annotation.pk])),
            [("warning", "Nothing shown again: none of them was hidden.")],
        )


class HistoryTests(CurationTestCase):
    def test_edits_are_recorded_and_restorable(self):
        """Every edit is in the history with who made it, and a curator can revert to an earlier state."""
        self.client.force_login(self.analyst)
        edit = reverse("annotations:edit", args=[self.annotation.pk])
        self.client.post(edit, {"body": "Second thoughts.", "visibility": "team", "version": 1})
        history = list(self.annotation.history.order_by("history_date"))
        self.assertEqual([h.body for h in history], ["Why it matters.", "Second thoughts."])
        self.assertEqual(history[-1].history_user, self.analyst)

        self.client.force_login(self.curator)
        revert_url = reverse("admin:annotations_annotation_simple_history", args=[self.annotation.pk, history[0].pk])
        form = self.client.get(revert_url)
        self.assertEqual(form.status_code, 200)
        data = {"visibility": "team", "tags": [], "_save": "Save"}
        self.client.post(revert_url, data)
        self.annotation.refresh_from_db()
        self.assertEqual(self.annotation.body, "Why it matters.")

    def test_history_page(self):
        """A curator can open any annotation's history."""
        self.client.force_login(self.curator)
        response = self.client.get(reverse("admin:annotations_annotation_history", args=[self.annotation.pk]))
        self.assertEqual(response.status_code, 200)

    def test_deletion_is_recoverable(self):
        """A deleted annotation is restored from the admin; the admin has no delete for good."""
        writes.delete(self.annotation.pk, by=self.analyst)
        self.act("restore", [self.annotation.pk])
        self.annotation.refresh_from_db()
        self.assertIsNone(self.annotation.deleted_at)
        self.client.force_login(self.curator)
        changelist = self.client.get(reverse(CHANGELIST))
        self.assertNotIn("delete_selected", [value for value, _ in changelist.context["action_form"].fields["action"].choices])
        # A forged post of the unregistered action: the admin says no action was chosen, and deletes nothing.
        response = self.client.post(
            reverse(CHANGELIST), {"action": "delete_selected", "_selected_action": [self.annotation.pk]}, follow=True
        )
        self.assertEqual(response.redirect_chain, [(reverse(CHANGELIST), 302)])
        self.assertContains(response, "No action selected.")
        self.assertTrue(Annotation.objects.filter(pk=self.annotation.pk).exists())


class TagVocabularyTests(CurationTestCase):
    def test_merge_re_points_every_annotation(self):
        """Merging folds one tag into another on every annotation and records it in their history."""
        old = Tag.objects.create(name="mil-assist", slug="mil-assist")
        new = Tag.objects.create(name="military-assistance", slug="military-assistance")
        self.annotation.tags.add(old)
        other = make_annotation(self.provision, self.analyst, 0, 6, tags=[old, new])
        self.client.force_login(self.curator)
        changelist = reverse("admin:annotations_tag_changelist")
        confirm = self.client.post(changelist, {"action": "merge", "_selected_action": [old.pk]})
        self.assertContains(confirm, "Merge into")
        self.client.post(changelist, {"action": "merge", "_selected_action": [old.pk], "into": new.pk})
        self.assertFalse(Tag.objects.filter(pk=old.pk).exists())
        self.assertEqual(list(self.annotation.tags.all()), [new])
        self.assertEqual(list(other.tags.all()), [new])
        self.assertTrue(Tag.history.filter(id=old.pk, history_type="-").exists())
        latest = self.annotation.history.latest("history_date")
        self.assertEqual([t.tag_id for t in latest.tags.all()], [new.pk])

    def test_hierarchy_is_one_level(self):
        """A tag's parent must be a top-level tag, and a tag cannot be its own parent."""
        security = Tag.objects.create(name="security", slug="security")
        military = Tag.objects.create(name="military-assistance", slug="military-assistance", parent=security)
        self.assertEqual(str(military), "security › military-assistance")
        deeper = Tag(name="nuclear", slug="nuclear", parent=military)
        with self.assertRaises(ValidationError):
            deeper.full_clean()
        security.parent = military
        with self.assertRaises(ValidationError):
            security.full_clean()


class ReanchoringQueueTests(CurationTestCase):
    def setUp(self):
        import_treaty("Article 4\nThe other Party shall provide assistance when a Party is at war.\n", treaty=self.treaty)
        self.annotation.refresh_from_db()

    def test_orphans_are_listed_and_placed_again(self):
        """An orphaned annotation is in the queue with its old wording, and a curator places it again."""
        self.assertEqual(self.annotation.placement, "orphaned")
        self.client.force_login(self.curator)
        queue = self.client.get(reverse(CHANGELIST), {"adrift": "yes"})
        self.assertContains(queue, QUOTE[:40])
        place = reverse("admin:annotations_annotation_place", args=[self.annotation.pk])
        page = self.client.get(place)
        self.assertContains(page, "thus finds itself in a state of war")
        self.assertContains(page, "when a Party is at war")
        self.assertEqual(self.client.post(place, {"words": "not there"}).status_code, 422)
        self.client.post(place, {"words": "when a Party is at war"})
        self.annotation.refresh_from_db()
        self.assertEqual((self.annotation.placement, self.annotation.exact), ("anchored", "when a Party is at war"))
        self.assertGreaterEqual(self.annotation.history.count(), 3)

    def test_retire(self):
        """Retiring takes the annotation out of every view but keeps it."""
        self.act("retire", [self.annotation.pk])
        self.annotation.refresh_from_db()
        self.assertIsNotNone(self.annotation.deleted_at)


class ChangelistScaleTests(CurationTestCase):
    def test_changelist_queries_are_flat_from_10_to_10000(self):
        """The annotation changelist costs the same queries with 10 rows as with 10,000, replies and
        annotations on commentary excerpts among them."""
        source = make_source(body="A commentary on Article 4.\n\nMore.")
        excerpt = make_excerpt(source, 0, len("A commentary on Article 4."))

        def grow(count):
            notes = make_annotations(self.provision, self.analyst, count)
            Annotation.objects.bulk_create(
                [Annotation(parent=note, author=self.curator, body="Reply.", body_html="<p>Reply.</p>")
                 for note in notes[::10]]
                + [Annotation(excerpt=excerpt, author=self.analyst, body="On it.", body_html="<p>On it.</p>",
                              exact="A commentary", start=0, end=12) for note in notes[::10]]
            )

        self.client.force_login(self.curator)
        grow(8)
        with CaptureQueriesContext(connection) as small:
            self.assertEqual(self.client.get(reverse(CHANGELIST)).status_code, 200)
        grow(8_000)
        with CaptureQueriesContext(connection) as large:
            response = self.client.get(reverse(CHANGELIST))
        self.assertContains(response, "9611 annotations")
        self.assertEqual(len(large), len(small), [q["sql"] for q in large.captured_queries])
