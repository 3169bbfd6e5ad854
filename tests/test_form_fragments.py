"""The workspace's fresh form, rendered once per version of what it shows (forms.NoteFields.fragment_key),
and the assessment scheme, read once per request (assessments.scheme): each change to what they show
shows at once, and neither ever serves one request's values to another."""

from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotations import assessments, writes
from annotations.models import AssessmentField, AssessmentValue, Tag
from treaty_app.models import LanguageVersion

from .factories import make_provision, make_treaty, make_user

TEXT = "The Parties shall consult each other on matters of mutual interest and shall act together."
WORDS = "consult each other"
HTMX = {"HX-Request": "true"}


class FormFragmentTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.treaty = make_treaty(slug="t")
        cls.provision = make_provision(cls.treaty, number=4, text=TEXT)
        cls.analyst = make_user("ana")
        cls.tag = Tag.objects.create(name="consultation", slug="consultation")
        cls.url = reverse("annotations:workspace", args=["t", "art-4"])
        cls.create_url = reverse("annotations:create", args=["t", "art-4"])

    def setUp(self):
        self.client.force_login(self.analyst)

    def form_html(self, html=None):
        html = html if html is not None else self.client.get(self.url).content.decode()
        start = html.index('<section id="annotation-form"')
        return html[start : html.index("</section>", start)]


class FreshFormTests(FormFragmentTestCase):
    def test_every_change_to_what_the_form_shows_shows(self):
        field = AssessmentField.objects.get(slug="strength")
        value = field.values.order_by("position").first()
        self.assertIn(" consultation</label>", self.form_html())  # made once, then from the cache below

        def rename_tag():
            Tag.objects.filter(pk=self.tag.pk).update(name="joint action")  # no signal: only the key knows

        def add_tag():
            Tag.objects.create(name="sanctions", slug="sanctions")

        def delete_tag():
            Tag.objects.get(slug="sanctions").delete()

        def relabel_field():
            AssessmentField.objects.filter(pk=field.pk).update(label="Legal force")

        def retire_value():
            AssessmentValue.objects.filter(pk=value.pk).update(retired=True)

        def add_value():
            AssessmentValue.objects.create(field=field, slug="aspirational", label="Aspirational", position=99)

        def add_language_version():
            LanguageVersion.objects.create(provision=self.provision, language="ru", text="Стороны консультируются.")

        steps = [
            ("tag renamed", rename_tag, " joint action</label>", " consultation</label>"),
            ("tag added", add_tag, " sanctions</label>", None),
            ("tag deleted", delete_tag, None, " sanctions</label>"),
            ("assessment field relabelled", relabel_field, ">Legal force:</label>", f">{field.label}:</label>"),
            ("assessment value retired", retire_value, None, f'value="{value.slug}"'),
            ("assessment value added", add_value, 'value="aspirational"', None),
            ("language version added", add_language_version, "Translation discrepancy with annotation no.", None),
        ]
        for label, change, shown, gone in steps:
            with self.subTest(label):
                change()
                form = self.form_html()
                if shown:
                    self.assertIn(shown, form)
                if gone:
                    self.assertNotIn(gone, form)

    def test_a_tag_made_by_a_note_shows_in_the_next_fresh_form(self):
        """New tags typed into a note (the create form's door to the vocabulary) show in the fresh form the
        HTMX answer carries and in the page a no-JS post redirects to."""
        self.client.get(self.url)  # the fresh form, cached
        start = TEXT.index(WORDS)
        data = {"exact": WORDS, "start": start, "end": start + len(WORDS), "body": "A note.", "visibility": "team"}
        htmx = self.client.post(self.create_url, data | {"new_tags": "sanctions"}, headers=HTMX)
        self.assertEqual(htmx.status_code, 200)
        self.assertIn("\n sanctions</label>", self.form_html(htmx.content.decode()))
        plain = self.client.post(self.create_url, data | {"new_tags": "joint action"}, follow=True)
        self.assertEqual(plain.redirect_chain[0][1], 302)
        self.assertIn("\n joint action</label>", self.form_html(plain.content.decode()))

    def test_a_refused_draft_stays_in_its_own_answer_only(self):
        """A bound form (the draft and its errors) is rendered for its request, never cached: the next
        fresh form is empty, with or without HTMX."""
        self.client.get(self.url)  # the fresh form, cached
        for headers in ({}, HTMX):
            with self.subTest(htmx=bool(headers)):
                refused = self.client.post(self.create_url, {"exact": "words not in the text", "body": "My own draft",
                                                             "visibility": "team"}, headers=headers)
                self.assertEqual(refused.status_code, 422)
                self.assertIn("My own draft", self.form_html(refused.content.decode()))
                self.assertIn("These words are not in the text", refused.content.decode())
                fresh = self.form_html()
                self.assertNotIn("My own draft", fresh)
                self.assertNotIn("These words are not in the text", fresh)

    def test_each_edit_form_shows_its_own_note(self):
        start = TEXT.index(WORDS)
        notes = [
            writes.create(author=self.analyst, target=self.provision, start=start, end=start + len(WORDS), exact=WORDS,
                          body=body, tags=tags, assessment=assessment)
            for body, tags, assessment in [("First note", [self.tag], {"strength": "binding"}), ("Second note", [], {})]
        ]
        first, second = (self.client.get(reverse("annotations:edit", args=[note.pk])).content.decode() for note in notes)
        self.assertIn("First note", first)
        self.assertNotIn("Second note", first)
        self.assertIn("Second note", second)
        self.assertNotIn("First note", second)
        self.assertRegex(first, r'<option value="binding" selected>')
        self.assertNotRegex(second, r'<option value="binding" selected>')
        self.assertRegex(first, r'value="%d"[^>]* checked' % self.tag.pk)
        self.assertNotRegex(second, r'value="%d"[^>]* checked' % self.tag.pk)


class SchemeOncePerRequestTests(FormFragmentTestCase):
    def create_statements(self):
        """{"plain" | "htmx": the SQL of a create posted that way}, each a 302 or a 200."""
        start, statements = TEXT.index(WORDS), {}
        for name, headers in (("plain", {}), ("htmx", HTMX)):
            with CaptureQueriesContext(connection) as queries:
                response = self.client.post(self.create_url, {"exact": WORDS, "start": start, "end": start + len(WORDS),
                                                              "body": "A note.", "visibility": "team"}, headers=headers)
            self.assertEqual(response.status_code, 302 if not headers else 200)
            statements[name] = [query["sql"] for query in queries.captured_queries]
        return statements

    def test_a_create_reads_the_scheme_once(self):
        for name, sql in self.create_statements().items():
            with self.subTest(name):
                self.assertEqual(len([q for q in sql if 'FROM "annotations_assessmentfield"' in q]), 1)

    def test_a_create_reads_the_vocabulary_and_the_language_versions_once(self):
        """The bound form, the fresh form and the highlights of a create's answer share one read of the
        tag vocabulary and one of the provision's language versions, with and without HTMX; a note on
        the wording reads no commentary excerpt."""
        LanguageVersion.objects.create(provision=self.provision, language="ru", text="Стороны консультируются.")
        for name, sql in self.create_statements().items():
            with self.subTest(name):
                self.assertEqual(len([q for q in sql if 'FROM "treaty_app_languageversion"' in q]), 1)
                vocabulary = [q for q in sql if q.startswith('SELECT "annotations_tag"."id"')
                              and 'FROM "annotations_tag"' in q and "WHERE" not in q and "JOIN" not in q]
                self.assertEqual(len(vocabulary), 1 if name == "htmx" else 0)
                # A note on the wording reads no excerpt: the form looks one up only for a note on it.
                self.assertEqual([q for q in sql if q.startswith('SELECT "treaty_app_excerpt"')], [])

    def test_a_change_to_the_scheme_within_a_request_is_read(self):
        # What request_started and request_finished call (sending those signals here would also close
        # the test's database connection, as Django does at the end of a real request).
        assessments.start_request_memo()
        try:
            before = assessments.scheme()
            self.assertIs(assessments.scheme(), before)
            AssessmentField.objects.create(slug="urgency", label="Urgency", kind=AssessmentField.Kind.TEXT, position=50)
            self.assertIsNotNone(assessments.scheme().field("urgency"))
            value = AssessmentValue.objects.filter(field__slug="strength").first()
            value.label = "Renamed value"
            value.save()
            self.assertEqual(assessments.scheme().values["strength"][value.slug].label, "Renamed value")
        finally:
            assessments.end_request_memo()

    def test_outside_a_request_every_read_is_fresh(self):
        first = assessments.scheme()
        AssessmentField.objects.filter(slug="strength").update(label="Changed without a signal")
        self.assertIsNot(assessments.scheme(), first)
        self.assertEqual(assessments.scheme().field("strength").label, "Changed without a signal")

    def test_each_request_reads_the_scheme_anew(self):
        self.client.get(self.url)
        AssessmentField.objects.filter(slug="strength").update(label="Changed between requests")
        self.assertIn("Changed between requests", self.form_html())


class ThroughTheAdminTests(FormFragmentTestCase):
    """The doors a curator changes what the fresh form shows through: the tag and the assessment field
    change forms. Each change shows in the next fresh form."""

    def setUp(self):
        self.curator = make_user("cora", role="Curators", is_staff=True)
        self.client.force_login(self.analyst)

    def as_curator(self, url, data):
        self.client.force_login(self.curator)
        response = self.client.post(url, data)
        self.client.force_login(self.analyst)
        self.assertEqual(response.status_code, 302, response.content[:500])

    def test_a_tag_renamed_in_the_admin_shows(self):
        self.assertIn(" consultation</label>", self.form_html())
        self.as_curator(reverse("admin:annotations_tag_change", args=[self.tag.pk]),
                        {"name": "joint consultation", "slug": "consultation", "colour": "#f4d03f", "description": "",
                         "aliases-TOTAL_FORMS": 0, "aliases-INITIAL_FORMS": 0})
        form = self.form_html()
        self.assertIn("\n joint consultation</label>", form)
        self.assertNotIn("\n consultation</label>", form)

    def test_a_field_relabelled_in_the_admin_shows(self):
        field = AssessmentField.objects.get(slug="strength")
        self.assertIn(f">{field.label}:</label>", self.form_html())
        self.as_curator(reverse("admin:annotations_assessmentfield_change", args=[field.pk]),
                        {"label": "Legal force", "slug": field.slug, "kind": field.kind, "position": field.position,
                         "help_text": field.help_text, "values-TOTAL_FORMS": 0, "values-INITIAL_FORMS": 0})
        form = self.form_html()
        self.assertIn(">Legal force:</label>", form)
        self.assertNotIn(f">{field.label}:</label>", form)
