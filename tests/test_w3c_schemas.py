"""annotations/w3c_schemas: the W3C model's own MUST assertions, vendored, and the memo that makes them fast."""

import json

from django.test import SimpleTestCase

from annotations.w3c_schemas import ROOT, Musts, _check_memo_is_sound, in_context, is_date_time, is_uri, musts

from .shared import W3C_TESTS, needs_shared

NOTE = {
    "@context": "http://www.w3.org/ns/anno.jsonld", "id": "https://glossa.example/treaties/t/art-4/#annotation-1",
    "type": "Annotation", "created": "2024-06-20T09:15:02Z",
    "body": {"type": "TextualBody", "value": "A note."},
    "target": {"source": "https://glossa.example/treaties/t/art-4/",
               "selector": {"type": "TextPositionSelector", "start": 3, "end": 9}},
}


def sample_items():
    """(sample name, annotation) for every annotation of the correct and incorrect samples, pages' items included."""
    found = []
    for path in sorted((W3C_TESTS / "samples").glob("*/*.json")):
        try:
            document = json.loads(path.read_text())
        except ValueError:
            continue  # some incorrect samples are deliberately not JSON
        page = document.get("first") if isinstance(document, dict) and document.get("type") == "AnnotationCollection" \
            else document
        if isinstance(page, dict) and isinstance(page.get("items"), list):
            found += [(f"{path.parent.name}/{path.name}[{n}]", in_context(item, document.get("@context")))
                      for n, item in enumerate(page["items"])]
        else:
            found.append((f"{path.parent.name}/{path.name}", document))
    return found


@needs_shared(W3C_TESTS)
class VendoredSchemaTests(SimpleTestCase):
    def test_the_vendored_files_are_the_suites_own(self):
        """Every schema file shipped in annotations/w3c_schemas is byte for byte the suite's copy in ../shared."""
        shipped = sorted(path for path in ROOT.rglob("*") if path.suffix in (".json", ".test") or path.name == "license.md")
        differing = [str(path.relative_to(ROOT)) for path in shipped
                     if path.read_bytes() != (W3C_TESTS / "schemas" / path.relative_to(ROOT)).read_bytes()]
        self.assertEqual((len(shipped), differing), (90, []))

    def test_the_memo_gives_each_sample_its_own_verdict(self):
        """Validated through the memo, in two orders, each sample annotation gets the verdict of a direct validation."""
        items = sample_items()
        direct = Musts()
        expected = {name: direct._failures(item, "annotation") for name, item in items}
        forward, backward = Musts(), Musts()
        got = {name: forward.annotation_failures(item) for name, item in items}
        got_backward = {name: backward.annotation_failures(item) for name, item in reversed(items)}
        self.assertEqual((got, got_backward), (expected, expected))


class ShapeTests(SimpleTestCase):
    """The memo tells apart what the assertions tell apart, and nothing else."""

    def variant(self, **changes):
        note = json.loads(json.dumps(NOTE))
        for path, value in changes.items():
            *parents, key = path.split("__")
            node = note
            for parent in parents:
                node = node[parent]
            node[key] = value
        return note

    def test_notes_alike_but_for_free_text_ids_and_positions_share_a_shape(self):
        """Another note text, id, time and position (same signs) give the same shape."""
        other = self.variant(created="2025-01-31T23:59:59.5+02:00", body__value="Quite another note, with “quotes”.", target__selector__start=40,
                             target__selector__end=90, id="https://glossa.example/treaties/t/art-5/#annotation-77")
        self.assertEqual(musts()._shape(other), musts()._shape(NOTE))

    def test_values_an_assertion_tests_change_the_shape(self):
        """A time that is not a date-time, a negative position, an unknown type or an id that is no IRI: each its own shape."""
        variants = [
            self.variant(created="yesterday"), self.variant(target__selector__start=-3),
            self.variant(body__type="Squirrel"), self.variant(id="not an iri"),
        ]
        shapes = {musts()._shape(note) for note in [NOTE, *variants]}
        self.assertEqual(len(shapes), 5)

    def test_schemas_with_a_constraint_the_memo_ignores_are_refused(self):
        """A schema constraining string length (which the shape does not keep) stops the module from loading."""
        with self.assertRaisesMessage(RuntimeError, "'maxLength'"):
            _check_memo_is_sound([{"properties": {"value": {"type": "string", "maxLength": 4}}}])


class FormatTests(SimpleTestCase):
    def test_date_times_must_exist_and_have_a_zone(self):
        """A date-time is RFC 3339 with a zone, on a real day."""
        self.assertEqual(
            [is_date_time(value) for value in ("2024-06-20T09:15:02.5Z", "2024-06-20T09:15:02", "2024-02-30T00:00:00Z")],
            [True, False, False],
        )

    def test_uris_are_absolute_ascii_with_one_fragment(self):
        """An IRI has a scheme, no spaces or raw Unicode, and at most one #."""
        self.assertEqual(
            [is_uri(value) for value in ("acct:ana@hypothes.is", "/relative", "https://a.example/x y", "http://a/#b#c",
                                         "https://a.example/тег")],
            [True, False, False, False, False],
        )


class PageTests(SimpleTestCase):
    def test_a_page_part_of_a_collection_by_iri_passes(self):
        """A page whose partOf is a plain IRI (the model allows it) passes the page MUSTs."""
        page = {"@context": "http://www.w3.org/ns/anno.jsonld", "id": "http://example.org/page1", "type": "AnnotationPage",
                "partOf": "http://example.org/collection1", "startIndex": 0, "items": [NOTE]}
        self.assertEqual(musts().container_failures(page), [])
