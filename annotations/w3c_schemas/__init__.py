"""The W3C Web Annotation model's MUST assertions, applied with jsonschema to what Glossa reads.

The JSON Schemas (draft-04) in this folder are the Working Group's own, copied unmodified
(NOTICE.md). They refer to each other by file name (``id.json#/definitions/…``); a local registry
resolves those, and nothing is ever fetched. Each assertion has an ``expectedResult``: a document
passes a "valid" one when the schema validates it and an "invalid" one when it does not.

What this module adds to the files:

* **Formats.** jsonschema checks ``uri`` and ``date-time`` only with optional packages; two small
  checkers make them real: an absolute IRI with at most one ``#``, and an RFC 3339 time that
  exists (not 2024-02-30).
* **The partOf quirk.** Seven page assertions apply an object schema to ``partOf``, so a page whose
  ``partOf`` is a plain IRI, which the model allows (correct sample example42), fails them. They
  are not applied to such a page.
* **Items one by one.** A page's or collection's own assertions are applied with its items left
  out; each annotation is checked on its own (`annotation_failures`), so a failure names its item.
* **A memo by shape.** The assertions are heavy (about 35 ms an annotation): validity depends on
  the keys, the array lengths, the types, the strings the schemas name (``enum``), whether the
  other strings match each ``pattern`` and ``format``, and the sign of numbers (every ``minimum``
  is 0). Annotations alike in all of those get the same verdict, so each shape is validated once;
  an export of a thousand notes has a few dozen shapes. `_check_memo_is_sound` refuses, when
  the module loads, schemas that use any other constraint, so the memo cannot go stale silently.
"""

import json
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import NamedTuple

from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

ROOT = Path(__file__).resolve().parent
MANIFESTS = {
    "annotation": "annotations/annotationMusts.test",
    "collection": "collections/collectionMusts.test",
    "page": "collections/pages/pageMusts.test",
}
# Page assertions that apply an object schema to partOf (NOTICE of the suite: "Quirk").
PARTOF_AS_OBJECT = frozenset({
    "collections/pages/5.2-pageTotalValidated.json", "collections/pages/5.2-pageLabelValidated.json",
    "collections/pages/5.2-pageFirstValidated.json", "collections/pages/5.2-pageLastValidated.json",
    "collections/pages/3.3.1-pageCreatedValidated.json", "collections/pages/3.3.1-pageModifiedValidated.json",
    "collections/pages/3.3.6-pageRightsValidated.json",
})
MEMO_SIZE = 10_000

_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?#\[\]]|%[0-9A-Fa-f]{2})*")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})")


def is_uri(value):
    """An absolute IRI of ASCII characters with at most one fragment."""
    return not isinstance(value, str) or (bool(_URI.fullmatch(value)) and value.count("#") <= 1)


def is_date_time(value):
    """An RFC 3339 date and time with a zone, on a day that exists."""
    if not isinstance(value, str):
        return True
    if not _DATE_TIME.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value.upper())
    except ValueError:
        return False
    return True


class Assertion(NamedTuple):
    name: str  # the file, e.g. "annotations/3.3.1-annotationCreatedValidated.json"
    message: str  # the suite's errorMessage, without its "ERROR: "
    expected_valid: bool
    validator: Draft4Validator

    def fails(self, instance):
        return self.validator.is_valid(instance) != self.expected_valid


class Failure(NamedTuple):
    name: str
    message: str


class Musts:
    """The MUST assertions of the three manifests, ready to apply."""

    def __init__(self, root=ROOT):
        checker = FormatChecker()
        checker.checks("uri")(is_uri)
        checker.checks("date-time")(is_date_time)
        definitions = sorted((root / "definitions").glob("*.json"))
        registry = Registry().with_resources(
            (path.name, Resource.from_contents(json.loads(path.read_text()), default_specification=DRAFT4))
            for path in definitions
        )
        schemas = [json.loads(path.read_text()) for path in definitions]
        self.assertions = {}
        for kind, manifest in MANIFESTS.items():
            self.assertions[kind] = []
            for name in json.loads((root / manifest).read_text())["assertions"]:
                schema = json.loads((root / name).read_text())
                schemas.append(schema)
                self.assertions[kind].append(Assertion(
                    name, schema["errorMessage"].removeprefix("ERROR: "),
                    schema.get("expectedResult", "valid") == "valid",
                    Draft4Validator(schema, registry=registry, format_checker=checker),
                ))
        self._enums, self._patterns = _check_memo_is_sound(schemas)
        self._memo = {}

    def _failures(self, instance, kind, skip=frozenset()):
        return [Failure(a.name, a.message) for a in self.assertions[kind] if a.name not in skip and a.fails(instance)]

    def annotation_failures(self, annotation):
        """The annotation MUSTs `annotation` (an item, with or without ``@context``) fails."""
        key = self._shape(annotation)
        try:
            return self._memo[key]
        except KeyError:
            pass
        if len(self._memo) >= MEMO_SIZE:
            self._memo.clear()
        failures = self._memo[key] = self._failures(annotation, "annotation")
        return failures

    def container_failures(self, document):
        """The MUSTs of a collection or page `document` (a collection embedding its first page is
        checked as both), with the items left out: `annotation_failures` checks those."""
        kind = document.get("type") if isinstance(document, dict) else None
        if kind == "AnnotationCollection":
            failures = self._failures(_without_items(document), "collection")
            if isinstance(document.get("first"), dict):
                failures += self._failures(_without_items(document), "page")
            return failures
        page = _without_items(document)
        skip = PARTOF_AS_OBJECT if isinstance(page, dict) and isinstance(page.get("partOf"), str) else frozenset()
        return self._failures(page, "page", skip)

    def document_failures(self, document):
        """Every MUST `document` fails: its own as a collection or page, each item's, or its own
        as an annotation."""
        kind = document.get("type") if isinstance(document, dict) else None
        if kind not in ("AnnotationCollection", "AnnotationPage"):
            return self.annotation_failures(document)
        failures = self.container_failures(document)
        page = document.get("first") if kind == "AnnotationCollection" else document
        for item in page.get("items", []) if isinstance(page, dict) else []:
            item = in_context(item, document.get("@context"))
            failures += [f for f in self.annotation_failures(item) if f not in failures]
        return failures

    def _shape(self, value):
        """What of `value` the assertions can tell apart (see the module docstring)."""
        if isinstance(value, str):
            if value in self._enums:
                return value
            return (str, is_uri(value), is_date_time(value), *(bool(p.search(value)) for p in self._patterns))
        if isinstance(value, dict):
            return (dict, *sorted((key, self._shape(item)) for key, item in value.items()))
        if isinstance(value, list):
            return (list, *(self._shape(item) for item in value))
        if isinstance(value, bool) or value is None:
            return value
        return (type(value), (value > 0) - (value < 0))


def in_context(item, context):
    """An item of a page as it stands alone: with the document's ``@context``, which it inherits."""
    if isinstance(item, dict) and "@context" not in item and context is not None:
        return {"@context": context, **item}
    return item


def _without_items(document):
    """A shallow copy of a collection or page with no items (in it, or in its embedded first page)."""
    if not isinstance(document, dict):
        return document
    copy = dict(document)
    if isinstance(copy.get("items"), list):
        copy["items"] = []
    if isinstance(copy.get("first"), dict) and isinstance(copy["first"].get("items"), list):
        copy["first"] = {**copy["first"], "items": []}
    return copy


# Keywords whose outcome the shape of an instance decides; the test-suite metadata; and the two
# misspelt keys of the suite's files ("$ref " with a space), which jsonschema ignores as unknown.
_SHAPE_KEYWORDS = {
    "$ref", "type", "enum", "format", "pattern", "minimum", "exclusiveMinimum", "minItems", "maxItems", "required",
    "properties", "patternProperties", "additionalProperties", "dependencies", "items", "allOf", "anyOf", "oneOf",
    "not", "definitions",
}
_INERT_KEYWORDS = {
    "$schema", "id", "title", "description", "assertionType", "expectedResult", "onUnexpectedResult",
    "errorMessage", "$ref ",
}
_NAME_MAPS = {"properties", "patternProperties", "definitions", "dependencies"}


def _check_memo_is_sound(schemas):
    """The enum strings and the patterns of `schemas`; raises if they constrain values in a way
    the shape of an instance does not capture."""
    enums, patterns = set(), set()

    def walk(node):
        if isinstance(node, list):
            for item in node:
                walk(item)
            return
        if not isinstance(node, dict):
            return
        for keyword, value in node.items():
            if keyword not in _SHAPE_KEYWORDS | _INERT_KEYWORDS:
                raise RuntimeError(f"W3C schema keyword {keyword!r}: the validation memo does not account for it")
            if keyword == "enum":
                if not all(isinstance(option, str) for option in value):
                    raise RuntimeError(f"W3C schema enum {value!r}: only strings are accounted for")
                enums.update(value)
            elif keyword == "pattern":
                patterns.add(value)
            elif keyword == "format" and value not in ("uri", "date-time"):
                raise RuntimeError(f"W3C schema format {value!r} has no checker")
            elif keyword == "minimum" and value != 0:
                raise RuntimeError(f"W3C schema minimum {value!r}: the memo keeps only the sign of numbers")
            elif keyword in _NAME_MAPS and isinstance(value, dict):
                for item in value.values():
                    walk(item)
            elif keyword not in _INERT_KEYWORDS:
                walk(value)

    walk(schemas)
    return frozenset(enums), tuple(re.compile(pattern) for pattern in sorted(patterns))


@cache
def musts():
    """The assertions, loaded once per process (loading takes a fraction of a second)."""
    return Musts()
