"""Foreign annotations: the W3C model's own samples and Hypothesis's, read by w3c_reader and written by w3c_import."""

import copy
import io
import json
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from annotations.models import Annotation, Tag
from annotations.w3c_import import W3CImportError, import_annotations
from annotations.w3c_schemas import musts
from treaty_app.importing import load_corpus
from treaty_app.models import Provision

from .shared import W3C_TESTS, needs_shared

BASE = "https://glossa.example"
CONTEXT = "http://www.w3.org/ns/anno.jsonld"
HYPOTHESIS = Path(__file__).resolve().parent / "fixtures" / "hypothesis.jsonld"


def run_import(document, *args):
    """import_annotations on `document` (bytes or parsed); its output."""
    data = document if isinstance(document, bytes) else json.dumps(document).encode()
    with tempfile.NamedTemporaryFile(suffix=".jsonld") as file:
        file.write(data)
        file.flush()
        out = io.StringIO()
        call_command("import_annotations", file.name, *args, stdout=out)
    return out.getvalue()


def export():
    """The curators' export of everything, parsed."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "export.jsonld"
        call_command("export_annotations", str(path), "--all", "--base-url", BASE, stdout=io.StringIO())
        return path.read_bytes()


def exported_items(data):
    return json.loads(data)["first"]["items"]


def retarget(node, url):
    """A sample's target, put on the Glossa page `url`: an IRI replaced, a source or an id moved (its
    fragment kept); everything else of it as it was."""
    if isinstance(node, str):
        return url
    if isinstance(node, list):
        return [retarget(target, url) for target in node]
    if not isinstance(node, dict):
        return node  # an incorrect sample's target, left as wrong as it is
    node = dict(node)
    if node.get("type") in ("Composite", "List", "Independents"):
        node["items"] = [retarget(target, url) for target in node["items"]]
    elif isinstance(node.get("source"), dict):
        node["source"] = {**node["source"], "id": url}
    elif "source" in node:
        node["source"] = url
    elif isinstance(node.get("id"), str):
        fragment = urlsplit(node["id"]).fragment
        node["id"] = url + (f"#{fragment}" if fragment else "")
    return node


def on_glossa(document, url):
    """The sample with every annotation's target on the Glossa page `url`."""
    document = copy.deepcopy(document)
    page = document.get("first") if document.get("type") == "AnnotationCollection" else document
    annotations = page.get("items", []) if isinstance(page, dict) and document.get("type") != "Annotation" else [document]
    for annotation in annotations:
        if isinstance(annotation, dict) and "target" in annotation:
            annotation["target"] = retarget(annotation["target"], url)
    return document


REASONS = {
    "not a Glossa provision page or excerpt permalink on this site": "off site",
    "Glossa annotates the words of its texts": "image or video",
    "), not a text": "not text (application/pdf)",
    "counts bytes": "bytes (DataPositionSelector)",
    "selects a region of an image": "image region (SvgSelector)",
    "targets: a Glossa annotation is on one text": "two targets",
    "does not follow the W3C model": "fails a W3C MUST",
    "pages are not embedded": "pages not embedded",
    "is not JSON": "not JSON",
    "is not an AnnotationCollection, AnnotationPage or Annotation": "no annotation type",
}


def label(message):
    """The refusal's reason, in a word or three (a collection refused for its items: "N items")."""
    if "items cannot be imported" in message:
        return f"{message.split(' items')[0].rsplit(': ', 1)[-1]} items refused"
    return next((short for phrase, short in REASONS.items() if phrase in message), message)


def correct_samples():
    return {path.name: json.loads(path.read_text()) for path in sorted((W3C_TESTS / "samples" / "correct").glob("*.json"))}


class CorpusTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        load_corpus()
        cls.article = Provision.objects.get(slug="art-4")
        cls.url = f"{BASE}{cls.article.get_absolute_url()}"

    def outcome(self, document):
        """"accepted", or the reason it was refused; nothing is kept either way."""
        try:
            with transaction.atomic():
                import_annotations(document, create_users=True)
                transaction.set_rollback(True)
        except W3CImportError as error:
            return label(str(error))
        return "accepted"


# --------------------------------------------------------------------------- the W3C samples

# What becomes of each correct sample once its target is a Glossa provision (the sample's own
# resource types, formats and selectors kept).
ON_GLOSSA = {name: "accepted" for name in [
    "anno1.json", "anno3.json", "anno5.json", "anno6.json", "anno7.json", "anno8.json", "anno10.json",
    "anno14.json", "anno15.json", "anno16.json", "anno18.json", "anno19.json", "anno20.json", "anno22.json",
    "anno23.json", "anno24.json", "anno25.json", "anno26.json", "anno27.json", "anno31.json", "anno32.json",
    "anno33.json", "anno34.json", "anno35.json", "anno36.json", "anno37.json", "anno38.json", "anno39.json",
    "anno40.json", "anno41-example44.json", "example42.json", "example43.json",
]} | {
    "anno2.json": "not text (application/pdf)",
    "anno4.json": "image or video", "anno17.json": "image or video", "anno21.json": "image or video",
    "anno9.json": "two targets",
    "anno11.json": "fails a W3C MUST", "anno12.json": "fails a W3C MUST", "anno13.json": "fails a W3C MUST",
    "anno28.json": "bytes (DataPositionSelector)",
    "anno29.json": "image region (SvgSelector)", "anno30.json": "image region (SvgSelector)",
    "collection1.json": "11 items refused",
    "example41.json": "pages not embedded",
}


@needs_shared(W3C_TESTS)
class W3CSampleTests(CorpusTestCase):
    """The Working Group's 45 correct samples and 39 incorrect ones."""

    def test_correct_samples_as_published_are_all_refused(self):
        """As published (targets on example.com and the like), each correct sample is refused, saying why."""
        outcomes = {name: self.outcome(document) for name, document in correct_samples().items()}
        expected = {name: "off site" if reason == "accepted" else reason for name, reason in ON_GLOSSA.items()}
        # As published, these two are refused for their targets before their items or selectors count.
        expected |= {"collection1.json": "41 items refused", "example42.json": "2 items refused",
                     "example43.json": "2 items refused"}
        self.assertEqual(outcomes, expected)

    def test_correct_samples_on_a_glossa_text_are_accepted_unless_not_text(self):
        """Put on a Glossa provision, every correct sample is accepted but those on an image, a video, a PDF, bytes,
        two targets, pre-CR3 target types, and a collection whose pages are elsewhere."""
        outcomes = {name: self.outcome(on_glossa(document, self.url)) for name, document in correct_samples().items()}
        self.assertEqual(outcomes, ON_GLOSSA)

    def test_incorrect_samples_are_all_refused(self):
        """Each incorrect sample, put on a Glossa provision too, is refused: 17 are not JSON, 3 have no annotation
        type, 19 fail another W3C MUST."""
        outcomes = {}
        for path in sorted((W3C_TESTS / "samples" / "incorrect").glob("*.json")):
            try:
                data = json.dumps(on_glossa(json.loads(path.read_text()), self.url)).encode()
            except ValueError:
                data = path.read_bytes()
            try:
                run_import(data, "--create-users")
                outcomes[path.name] = "accepted"
            except CommandError as error:
                outcomes[path.name] = label(str(error))
        counts = {reason: list(outcomes.values()).count(reason) for reason in set(outcomes.values())}
        self.assertEqual(counts, {"not JSON": 17, "no annotation type": 3, "fails a W3C MUST": 19})


@needs_shared(W3C_TESTS)
class W3CSampleContentTests(CorpusTestCase):
    """What Glossa keeps of the samples it accepts, and says of what it does not keep."""

    def imported(self, name):
        document = on_glossa(correct_samples()[name], self.url)
        output = run_import(document, "--create-users")
        ids = [item["id"] for item in (document.get("items") or [document])]
        return Annotation.objects.get(via=ids[0]), output

    def test_an_iri_body_becomes_a_link(self):
        """anno1's body, an IRI, is the note: a Markdown link."""
        note, _ = self.imported("anno1.json")
        self.assertEqual(note.body, "<http://example.org/post1>")

    def test_a_choice_keeps_its_first_option_and_names_the_others(self):
        """anno10's Choice of two notes keeps the first (the default); the report names the second."""
        note, output = self.imported("anno10.json")
        self.assertEqual((note.body, "Choice option 2 “http://example.org/note2”" in output),
                         ("<http://example.org/note1>", True))

    def test_a_specific_resource_body_links_to_its_fragment(self):
        """anno23's body, 30–60 s of a video, is a link to that media fragment."""
        note, _ = self.imported("anno23.json")
        self.assertEqual(note.body, "<http://example.org/video1#t=30,60>")

    def test_a_bookmark_becomes_a_tagged_note(self):
        """anno18 (bookmarking): its describing body is the note, its tagging body a tag."""
        note, _ = self.imported("anno18.json")
        self.assertEqual(
            (note.body, [tag.name for tag in note.tags.all()]),
            ("A good description of the topic that bears further investigation", ["readme"]),
        )

    def test_what_is_not_kept_is_listed_per_annotation(self):
        """rights, generator, generated, audience and the bookmarking motivation are listed, each under its item."""
        lines = "".join(self.imported(name)[1] for name in ("anno19.json", "anno14.json", "anno16.json", "anno18.json"))
        self.assertEqual(
            [line.strip() for line in lines.splitlines() if line.startswith("    item 0")],
            [
                ("item 0 (http://example.org/anno19): body 0 rights “http://creativecommons.org/licenses/by-nc/4.0/”; "
                 "rights “https://creativecommons.org/publicdomain/zero/1.0/”."),
                ("item 0 (http://example.org/anno14): body 0 creator “http://example.net/user2”; "
                 "body 0 created “2014-06-02T17:00:00Z”; generator “http://example.org/client1”; "
                 "generated “2015-02-04T12:00:00Z”."),
                "item 0 (http://example.org/anno16): audience.",
                ("item 0 (http://example.org/anno18): motivation “bookmarking” (exported as commenting); "
                 "body 1: purpose “describing” (kept as note text)."),
            ],
        )

    def test_canonical_and_via_are_exported(self):
        """anno20 is exported with its canonical IRI and, as via, the id it was imported from."""
        note, _ = self.imported("anno20.json")
        item = next(item for item in exported_items(export()) if item["id"].endswith(f"#annotation-{note.pk}"))
        self.assertEqual((item["canonical"], item["via"]),
                         ("urn:uuid:dbfb1861-0ecf-41ad-be94-a584e5c4f1df", "http://example.org/anno20"))

    def test_xpath_and_range_selectors_are_exported_as_they_came(self):
        """anno25's XPathSelector and anno31's RangeSelector are the exported targets' selectors; both are orphaned."""
        notes = [self.imported(name)[0] for name in ("anno25.json", "anno31.json")]
        by_pk = {item["id"].rsplit("-", 1)[1]: item for item in exported_items(export())}
        self.assertEqual(
            [(by_pk[str(note.pk)]["target"]["selector"], note.placement) for note in notes],
            [([correct_samples()[name]["target"]["selector"]], "orphaned") for name in ("anno25.json", "anno31.json")],
        )

    def test_a_foreign_round_trip_is_byte_identical(self):
        """Foreign annotations (extra selectors, via, canonical, a whole-text one) survive export → wipe → import → export."""
        for name in ("anno20.json", "anno25.json", "anno31.json", "anno32.json", "anno1.json"):
            self.imported(name)
        before = export()
        Annotation.objects.all().delete()
        Tag.objects.all().delete()
        run_import(before)
        self.assertEqual(export(), before)

    def test_a_missing_created_is_the_import_time(self):
        """anno1 has no created (the model does not require one): created and modified are the time of the import."""
        started = timezone.now()
        note, _ = self.imported("anno1.json")
        self.assertTrue(started <= note.created_at == note.updated_at <= timezone.now())

    def test_importing_a_sample_twice_makes_one_annotation(self):
        """The second import finds the annotation by the via it recorded."""
        _, first = self.imported("anno1.json")
        _, second = self.imported("anno1.json")
        self.assertEqual((first.splitlines()[0][:10], second.splitlines()[0][:10], Annotation.objects.count()),
                         ("Imported 1", "Imported 0", 1))

    def test_creators_become_named_external_users(self):
        """No creator: unknown@ the id's host; anno15's creator: user1@example.org, named, inactive."""
        self.imported("anno1.json")
        self.imported("anno15.json")
        self.assertEqual(
            list(User.objects.filter(username__contains="@").order_by("username")
                 .values_list("username", "first_name", "is_active")),
            [("unknown@example.org", "", False), ("user1@example.org", "My Pseudonym", False)],
        )


# --------------------------------------------------------------------------- Hypothesis


class HypothesisTests(CorpusTestCase):
    """Seven annotations as Hypothesis's API returns them (/api/annotations/{id}.jsonld), made on Glossa's pages."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.document = json.loads(HYPOTHESIS.read_text())
        cls.output = run_import(cls.document, "--create-users")
        cls.notes = {note.via: note for note in Annotation.objects.all()}

    def note(self, n):
        return self.notes[self.document[n]["id"]]

    def test_all_seven_are_imported(self):
        """The command imports the seven, none already here."""
        self.assertIn("Imported 7 annotations from", self.output)

    def test_acct_creators_are_inactive_users_named_with_their_authority(self):
        """acct:mira_k@hypothes.is is the inactive user mira_k@hypothes.is, with no password, as are the others."""
        self.assertEqual(
            list(User.objects.filter(username__endswith="@hypothes.is").order_by("username")
                 .values_list("username", "is_active")),
            [("alexei.v@hypothes.is", False), ("kenji_t@hypothes.is", False), ("mira_k@hypothes.is", False)],
        )

    def test_tags_in_any_script_get_slugs_that_work(self):
        """A Cyrillic and a Japanese tag get Unicode slugs, and their tag pages answer."""
        slugs = ["взаимная-оборона", "軍事協力"]
        statuses = [self.client.get(reverse("reader:tag", args=[slug])).status_code for slug in slugs]
        self.assertEqual((sorted(Tag.objects.filter(slug__in=slugs).values_list("slug", flat=True)), statuses),
                         (sorted(slugs), [200, 200]))

    def test_tags_that_differ_only_in_case_are_one_tag(self):
        """"mutual defence" and "Mutual defence" are the same tag, on both notes."""
        self.assertEqual(
            [[tag.slug for tag in self.note(n).tags.all()] for n in (0, 1)],
            [["article-4", "mutual-defence"], ["mutual-defence", "взаимная-оборона"]],
        )

    def test_the_quote_finds_its_copy_by_its_context(self):
        """"finds itself in a state of war" occurs twice in Article 4; its prefix places it on the first."""
        note = self.note(0)
        start = self.article.text.index("several countries and thus finds") + len("several countries and thus ")
        self.assertEqual((note.start, note.end, note.placement), (start, start + 30, "anchored"))

    def test_a_page_note_is_on_the_whole_wording(self):
        """A page note (no selector) is anchored on all of the provision's wording."""
        note = self.note(3)
        self.assertEqual((note.start, note.end, note.exact), (0, len(self.article.text), self.article.text))

    def test_a_highlight_has_an_empty_note(self):
        """A highlight (empty text, no tag) is imported with an empty note."""
        self.assertEqual((self.note(2).body, self.note(2).placement), ("", "anchored"))

    def test_how_each_was_placed_is_reported(self):
        """The report says the page offsets did not fit, and which were placed by a close match or orphaned."""
        lines = {line.strip() for line in self.output.splitlines()}
        self.assertLessEqual(
            {f"{self.document[n]['id']}: its TextPositionSelector did not fit the wording: placed by its quote, {placed}."
             for n, placed in [(0, "anchored"), (4, "fuzzy"), (5, "orphaned")]},
            lines,
        )

    def test_xpath_and_range_selectors_are_exported_after_glossas(self):
        """The export gives Glossa's quote and position, then Hypothesis's XPath (or Range) selector as it came."""
        by_via = {item["via"]: item for item in exported_items(export())}
        self.assertEqual(
            [by_via[self.document[n]["id"]]["target"]["selector"][2:] for n in (0, 4)],
            [self.document[0]["target"][0]["selector"][:1], self.document[4]["target"][0]["selector"][:1]],
        )

    def test_the_export_of_what_was_imported_passes_the_w3c_musts(self):
        """Each imported annotation, exported, passes every W3C MUST assertion."""
        failures = [musts().annotation_failures({"@context": CONTEXT, **item}) for item in exported_items(export())]
        self.assertEqual(failures, [[]] * 7)

    def test_a_second_import_creates_nothing(self):
        """The same file again: nothing new (each annotation is found by its via)."""
        self.assertIn("Imported 0 annotations", run_import(self.document, "--create-users"))


# --------------------------------------------------------------------------- motivations


class MotivationTests(CorpusTestCase):
    def annotation(self, motivation, body):
        return {"@context": CONTEXT, "id": f"urn:uuid:{motivation}-1", "type": "Annotation", "motivation": motivation,
                "creator": "acct:ana@hypothes.is", "body": body,
                "target": {"source": self.url, "selector": {"type": "TextQuoteSelector", "exact": "state of war"}}}

    def test_tagging_bodies_without_a_purpose_are_tags(self):
        """motivation tagging: a TextualBody with no purpose of its own is a tag, in any script."""
        run_import(self.annotation("tagging", {"type": "TextualBody", "value": "Санкции"}), "--create-users")
        note = Annotation.objects.get()
        self.assertEqual((note.body, [(tag.name, tag.slug) for tag in note.tags.all()]), ("", [("Санкции", "санкции")]))

    def test_classifying_by_an_iri_keeps_the_class_as_a_link(self):
        """motivation classifying with a class IRI: the note links to the class."""
        run_import(self.annotation("classifying", "http://example.org/vocab/art/portrait"), "--create-users")
        self.assertEqual(Annotation.objects.get().body, "<http://example.org/vocab/art/portrait>")
