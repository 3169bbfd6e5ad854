"""Every change of a provision's wording or an excerpt's text takes one path (wording.save_wording):
a new text version, a history record with who and why, the annotations on it placed again, a
report. Through each door: the admin change form, the admin's history revert, import_treaty, and
the excerpt's change form."""

from django.test import TestCase
from django.urls import reverse

from annotations import writes
from annotations.models import Annotation
from treaty_app.treaty_text import import_treaty
from treaty_app.models import Excerpt, Provision

from .factories import link, make_excerpt, make_provision, make_source, make_treaty, make_user

TEXT = (
    "In the event that one of the Parties is subjected to an armed attack and thus finds itself in a state of "
    "war, the other Party shall immediately provide military and other assistance."
)
WORDS = "state of war"
AMENDED = "Article 4 as amended. " + TEXT


class WordingPathTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.treaty = make_treaty(slug="t", short_title="T")
        cls.provision = make_provision(cls.treaty, number=4, text=TEXT, heading="Assistance")
        cls.ana = make_user("ana")
        cls.cora = make_user("cora", role="Curators", is_staff=True)
        start = TEXT.index(WORDS)
        note = writes.create(author=cls.ana, target=cls.provision, start=start, end=start + len(WORDS), exact=WORDS,
                             body="On the threshold.")
        writes.submit(note.pk, by=cls.ana)
        writes.publish(Annotation.objects.filter(pk=note.pk), curator=cls.cora)
        cls.note = Annotation.objects.get(pk=note.pk)

    def assert_on_its_words(self, text, version):
        note = Annotation.objects.get(pk=self.note.pk)
        provision = Provision.objects.get(pk=self.provision.pk)
        self.assertEqual(provision.text, text)
        self.assertEqual(provision.text_version, version)
        self.assertEqual((note.placement, text[note.start:note.end], note.text_version), ("anchored", WORDS, version))
        self.assertEqual(note.original_exact, WORDS)
        self.client.logout()
        page = self.client.get(provision.get_absolute_url()).content.decode()
        self.assertRegex(page, rf'<mark [^>]*id="hl-{note.pk}"[^>]*>{WORDS}</mark>')
        return note

    def edit_in_admin(self, text):
        self.client.force_login(self.cora)
        change = reverse("admin:treaty_app_provision_change", args=[self.provision.pk])
        data = {
            "treaty": self.treaty.pk, "kind": "article", "number": 4, "position": 4, "slug": "art-4",
            "heading": "Assistance", "text": text, "coverage": "quoted", "summary": "",
            "quoted_passages-TOTAL_FORMS": 0, "quoted_passages-INITIAL_FORMS": 0,
            "excerpt_links-TOTAL_FORMS": 0, "excerpt_links-INITIAL_FORMS": 0, "_save": "Save",
        }
        return self.client.post(change, data, follow=True)

    def test_an_admin_edit_of_the_wording_places_the_annotations_again(self):
        response = self.edit_in_admin(AMENDED)
        self.assertContains(response, "annotations placed again: 1 anchored")
        self.assert_on_its_words(AMENDED, 2)
        record = Provision.objects.get(pk=self.provision.pk).history.latest("history_date")
        self.assertEqual((record.history_user, record.history_change_reason), (self.cora, "Wording edited in the admin"))
        note_record = Annotation.objects.get(pk=self.note.pk).history.latest("history_date")
        self.assertEqual(note_record.history_change_reason, "Placed again: Wording edited in the admin")

    def test_reverting_the_wording_from_history_places_the_annotations_again(self):
        import_treaty(f"Article 4\n{AMENDED}\n", treaty=self.treaty)
        self.assert_on_its_words(AMENDED, 2)
        first = Provision.objects.get(pk=self.provision.pk).history.order_by("history_date").first()
        self.client.force_login(self.cora)
        revert = reverse("admin:treaty_app_provision_simple_history", args=[self.provision.pk, first.pk])
        data = {
            "treaty": self.treaty.pk, "kind": "article", "number": 4, "position": 4, "slug": "art-4",
            "heading": "Assistance", "text": TEXT, "coverage": "quoted", "summary": "",
            "quoted_passages-TOTAL_FORMS": 0, "quoted_passages-INITIAL_FORMS": 0,
            "excerpt_links-TOTAL_FORMS": 0, "excerpt_links-INITIAL_FORMS": 0, "_save": "Save",
        }
        self.client.post(revert, data)
        # Back to the first wording, at a new version: the version only moves forward.
        self.assert_on_its_words(TEXT, 3)

    def test_importing_an_official_text_places_the_annotations_again(self):
        report = import_treaty(f"Article 4\n{AMENDED}\n", treaty=self.treaty)
        self.assertIn("Article 4: new wording saved; annotations placed again: 1 anchored.", report.notes)
        self.assert_on_its_words(AMENDED, 2)

    def test_saving_without_changing_the_wording_touches_no_annotation(self):
        version = self.note.version
        self.edit_in_admin(TEXT)
        self.assertEqual(Annotation.objects.get(pk=self.note.pk).version, version)
        self.assertEqual(Provision.objects.get(pk=self.provision.pk).text_version, 1)


class ExcerptWordingTests(TestCase):
    def test_an_admin_edit_of_an_excerpt_places_its_annotations_again(self):
        treaty = make_treaty(slug="t")
        provision = make_provision(treaty, number=4, text=TEXT)
        body = "Preface. The treaty mentions a state of war, which is not every armed conflict.\n\nMore."
        source = make_source(body=body)
        start = body.index("The treaty")
        excerpt = make_excerpt(source, start, body.index("\n\n"))
        link(excerpt, provision)
        ana, cora = make_user("ana"), make_user("cora", role="Curators", is_staff=True)
        words_at = excerpt.text.index(WORDS)
        note = writes.create(author=ana, target=excerpt, start=words_at, end=words_at + len(WORDS), exact=WORDS,
                             body="The commentator's point.")

        self.client.force_login(cora)
        change = reverse("admin:treaty_app_excerpt_change", args=[excerpt.pk])
        new_start = body.index("Preface.")
        response = self.client.post(change, {
            "source": source.pk, "start": new_start, "end": body.index("\n\n"), "text": body[new_start:body.index("\n\n")],
            "links-TOTAL_FORMS": 0, "links-INITIAL_FORMS": 0, "_save": "Save",
        }, follow=True)
        self.assertContains(response, "annotations placed again: 1 anchored")
        excerpt = Excerpt.objects.get(pk=excerpt.pk)
        note = Annotation.objects.get(pk=note.pk)
        self.assertEqual(excerpt.text[note.start:note.end], WORDS)
        self.assertEqual(note.start, words_at + len("Preface. "))
