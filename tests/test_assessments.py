"""Structured assessments (issue 15 §1): a scheme curators define, validated the same way through
every door (the workspace's forms, HTMX or not; the W3C import), versioned with the annotation,
exported in the JSON-LD and the CSV and imported back losslessly; a retired value stays readable."""

import csv
import io
import json
import tempfile
from pathlib import Path

from django.core.management import call_command
from django.test import TestCase, TransactionTestCase
from django.urls import reverse

from annotations import assessments, writes
from annotations.models import Annotation, AssessmentField, AssessmentValue

from .factories import make_provision, make_treaty, make_user

TEXT = "In the event that one of the Parties finds itself in a state of war, the other Party shall assist it."
WORDS = "state of war"
HTMX = {"HX-Request": "true"}


class AssessmentTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.treaty = make_treaty(slug="t")
        cls.provision = make_provision(cls.treaty, number=4, text=TEXT)
        cls.ana = make_user("ana")
        cls.cora = make_user("cora", role="Curators", is_staff=True)
        cls.create_url = reverse("annotations:create", args=["t", "art-4"])

    def data(self, **assessment):
        start = TEXT.index(WORDS)
        fields = {f"assessment-{field.replace('_', '-')}": value for field, value in assessment.items()}
        return {"exact": WORDS, "start": start, "end": start + len(WORDS), "body": "A note.", "visibility": "team",
                **fields}


class SchemeTests(AssessmentTestCase):
    def test_the_default_scheme_is_the_issues(self):
        known = assessments.scheme()
        self.assertEqual([field.slug for field in known.fields],
                         ["obligation-type", "trigger", "strength", "confidence", "reasoning"])
        self.assertEqual(list(known.values["confidence"]), ["low", "medium", "high"])

    def test_unknown_fields_and_values_are_refused_naming_the_field(self):
        with self.assertRaises(Exception) as caught:
            assessments.validate({"strength": "absolute", "mood": "sunny", "confidence": "high"})
        self.assertEqual(
            caught.exception.message_dict,
            {"strength": ["Strength: “absolute” is not one of its values (binding, hortatory, ambiguous)."],
             "mood": ["“mood” is not a field of the assessment scheme."]},
        )


class WorkspaceDoorTests(AssessmentTestCase):
    def setUp(self):
        self.client.force_login(self.ana)

    def test_create_with_an_assessment_through_htmx_and_without(self):
        for headers in (HTMX, {}):
            with self.subTest(htmx=bool(headers)):
                response = self.client.post(
                    self.create_url, self.data(strength="binding", confidence="high", reasoning="Article 51."),
                    headers=headers,
                )
                self.assertEqual(response.status_code, 200 if headers else 302)
        stored = list(Annotation.objects.values_list("assessment", flat=True))
        self.assertEqual(stored, [{"strength": "binding", "confidence": "high", "reasoning": "Article 51."}] * 2)

    def test_an_unknown_value_is_a_422_with_the_field_named_and_nothing_saved(self):
        for headers in (HTMX, {}):
            with self.subTest(htmx=bool(headers)):
                response = self.client.post(self.create_url, self.data(strength="absolute"), headers=headers)
                self.assertContains(response, "Select a valid choice. absolute is not one of the available choices.",
                                    status_code=422)
                self.assertContains(response, 'name="assessment-strength"', status_code=422)
        self.assertFalse(Annotation.objects.exists())

    def test_the_card_shows_the_assessment(self):
        self.client.post(self.create_url, self.data(strength="binding", trigger="armed-attack"))
        page = self.client.get(reverse("annotations:workspace", args=["t", "art-4"])).content.decode()
        self.assertIn("<dt>Trigger</dt><dd>Armed attack</dd>", page)
        self.assertIn("<dt>Strength</dt><dd>Binding</dd>", page)

    def test_an_edit_of_a_published_assessment_waits_as_a_revision(self):
        start = TEXT.index(WORDS)
        note = writes.create(author=self.ana, target=self.provision, start=start, end=start + len(WORDS),
                             exact=WORDS, body="A note.", assessment={"strength": "binding"})
        writes.submit(note.pk, by=self.ana)
        writes.publish(Annotation.objects.filter(pk=note.pk), curator=self.cora)
        note.refresh_from_db()
        edit = reverse("annotations:edit", args=[note.pk])
        self.client.post(edit, {"body": "A note.", "version": note.version, "assessment-strength": "hortatory"})
        note.refresh_from_db()
        self.assertEqual((note.assessment, note.revision_assessment, note.review),
                         ({"strength": "binding"}, {"strength": "hortatory"}, "submitted"))
        self.client.logout()
        self.assertContains(self.client.get(self.provision.get_absolute_url()), "<dt>Strength</dt><dd>Binding</dd>")
        writes.publish(Annotation.objects.filter(pk=note.pk), curator=self.cora)
        self.assertContains(self.client.get(self.provision.get_absolute_url()), "<dt>Strength</dt><dd>Hortatory</dd>")
        # Versioned with the annotation: the history holds each state.
        self.assertEqual([record.assessment for record in note.history.order_by("history_id")][-1],
                         {"strength": "hortatory"})


class RetiredValueTests(AssessmentTestCase):
    def test_a_retired_value_stays_readable_is_reported_and_is_refused_for_new_ones(self):
        start = TEXT.index(WORDS)
        note = writes.create(author=self.ana, target=self.provision, start=start, end=start + len(WORDS),
                             exact=WORDS, body="A note.", assessment={"strength": "ambiguous"})
        AssessmentValue.objects.filter(field__slug="strength", slug="ambiguous").update(retired=True)
        self.client.force_login(self.ana)
        page = self.client.get(reverse("annotations:workspace", args=["t", "art-4"])).content.decode()
        self.assertIn("<dd>Ambiguous <span class=\"retired-note\">(no longer in the scheme)</span></dd>", page)
        # Kept on an edit that keeps it; refused for a new annotation.
        edit = reverse("annotations:edit", args=[note.pk])
        self.assertEqual(self.client.post(edit, {"body": "Edited.", "version": note.version, "visibility": "team",
                                                 "assessment-strength": "ambiguous"}).status_code, 302)
        self.assertEqual(Annotation.objects.get(pk=note.pk).assessment, {"strength": "ambiguous"})
        response = self.client.post(self.create_url, self.data(strength="ambiguous"))
        self.assertEqual(response.status_code, 422)
        self.client.force_login(self.cora)
        listing = self.client.get(reverse("admin:annotations_assessmentfield_changelist")).content.decode()
        self.assertIn('<td class="field-retired_in_use">1</td>', listing)


class ExportImportTests(TransactionTestCase):
    serialized_rollback = True

    def test_export_wipe_import_export_is_identical_with_assessments(self):
        provision = make_provision(make_treaty(slug="t"), number=4, text=TEXT)
        ana, cora = make_user("ana"), make_user("cora", role="Curators", is_staff=True)
        start = TEXT.index(WORDS)
        published = writes.create(author=ana, target=provision, start=start, end=start + len(WORDS), exact=WORDS,
                                  body="Binding.", assessment={"strength": "binding", "reasoning": "Its words: shall."})
        writes.submit(published.pk, by=ana)
        writes.publish(Annotation.objects.filter(pk=published.pk), curator=cora)
        published.refresh_from_db()
        writes.edit(published.pk, by=ana, version=published.version, body="Binding.",
                    assessment={"strength": "hortatory"})
        writes.create(author=ana, target=provision, start=0, end=6, exact=TEXT[:6], body="Retired value.",
                      assessment={"confidence": "low"})
        AssessmentValue.objects.filter(field__slug="confidence", slug="low").update(retired=True)
        directory = Path(tempfile.mkdtemp())

        def export(name):
            call_command("export_annotations", str(directory / name), "--all", stdout=io.StringIO())
            return (directory / name).read_bytes()

        first = export("first.jsonld")
        document = json.loads(first)
        bodies = [body for item in document["first"]["items"] for body in item["body"]]
        self.assertIn({"type": "SpecificResource", "purpose": "classifying",
                       "source": "http://127.0.0.1:8000/assessments/strength/binding/"}, bodies)
        self.assertIn({"type": "TextualBody", "purpose": "describing", "value": "Its words: shall.",
                       "format": "text/plain", "glossa:field": "reasoning"}, bodies)
        Annotation.objects.all().delete()
        call_command("import_annotations", str(directory / "first.jsonld"), stdout=io.StringIO())
        self.assertEqual(export("second.jsonld"), first)
        self.assertEqual(Annotation.objects.get(body="Retired value.").assessment, {"confidence": "low"})
        self.assertEqual(Annotation.objects.get(body="Binding.").revision_assessment, {"strength": "hortatory"})

    def test_an_import_with_an_unknown_value_is_refused_naming_the_field(self):
        provision = make_provision(make_treaty(slug="t"), number=4, text=TEXT)
        make_user("ana")
        document = {
            "@context": "http://www.w3.org/ns/anno.jsonld", "id": "https://elsewhere.example/a/1", "type": "Annotation",
            "creator": {"id": "http://127.0.0.1:8000/users/ana/", "nickname": "ana"},
            "body": [{"type": "TextualBody", "value": "x", "purpose": "commenting"},
                     {"type": "SpecificResource", "purpose": "classifying",
                      "source": "http://127.0.0.1:8000/assessments/strength/absolute/"}],
            "target": {"source": f"http://127.0.0.1:8000{provision.get_absolute_url()}",
                       "selector": {"type": "TextQuoteSelector", "exact": WORDS}},
        }
        path = Path(tempfile.mkdtemp()) / "bad.jsonld"
        path.write_text(json.dumps(document))
        with self.assertRaisesMessage(Exception, "assessment field 'strength': Strength: “absolute” is not one of its values"):
            call_command("import_annotations", str(path), stdout=io.StringIO())
        self.assertFalse(Annotation.objects.exists())


class CsvAndPageTests(AssessmentTestCase):
    def test_the_csv_has_an_assessment_column_and_the_iris_dereference(self):
        start = TEXT.index(WORDS)
        writes.create(author=self.ana, target=self.provision, start=start, end=start + len(WORDS), exact=WORDS,
                      body="A note.", assessment={"strength": "binding", "confidence": "high"})
        out = Path(tempfile.mkdtemp()) / "out.csv"
        call_command("export_annotations", str(out), "--all", "--format", "csv", stdout=io.StringIO())
        rows = list(csv.DictReader(out.open()))
        self.assertEqual(rows[0]["assessment"], "Strength: Binding; Confidence: High")
        page = self.client.get("/assessments/strength/binding/")
        self.assertContains(page, '<li id="strength--binding" class="current" aria-current="true">')
        self.assertEqual(self.client.get("/assessments/strength/absolute/").status_code, 404)
        self.assertEqual(AssessmentField.objects.count(), 5)
