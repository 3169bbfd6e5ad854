"""Fuzz tests (issue 14 §3): Hypothesis sends hostile input through every door and checks the answer.

Driven as a visitor, an analyst and a curator (tests/fuzzing.py builds the requests and the rows):

* the workspace: its page and filters (tag, author, visibility), its home and tag stylesheet, and
  create, edit, reply, delete, submit, restore, hide and place, each by GET and by POST, plain and
  with ``HX-Request: true``;
* the reader: the home, treaty, provision, source and tag pages, and search (q, tag, source,
  provision, treaty);
* the JSON-LD: ``/annotations.jsonld`` (page, size) and a provision's document;
* the admin changelists of annotations, tags, provisions and excerpt links (q, their filters, o,
  p, all, e, _facets, _to_field, _popup, the date drill-down), and their actions with any
  ``_selected_action``, posted from any of those lists.

Every field may be valid, missing, repeated, hold hostile text (NUL, lone surrogates sent as the
bytes a careless encoder makes of them, 60,000 characters, right-to-left and combining marks,
huge and negative numbers), or all fields one such value at once. Paths take hostile ids and
slugs too. Asserted for every answer: no 5xx (nor an exception); a 4xx carries a message a person
can read (an HTMX fragment: an element marked as an error; a page: text beyond the status; JSON:
its ``error``); and a 4xx left the annotations, tags, history, excerpt links and content
versions as they were.

The commands import_source and import_treaty are given bad files (bytes that are not UTF-8,
NULs, encoded surrogates, empty files, headings repeated, a title that names no treaty or none,
huge article numbers, headings without wording, enormous lines beside a fault) and bad
invocations; import_annotations bad JSON (deep nesting, huge integers, lone surrogates and NULs,
wrong types). Each must end in a CommandError that names the file, with nothing changed.

The budget is fixed (tests/fuzzing.py: FUZZ): 30 examples a property, derandomized, so CI tries
the same examples on SQLite and PostgreSQL on every run. ``--hypothesis-show-statistics`` shows
the statuses and refusals each property reached.
"""

import json
import tempfile
from io import StringIO
from pathlib import Path

from django.core.management import CommandError, call_command
from django.test import SimpleTestCase
from hypothesis import assume, event, example, given
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from annotations.models import Annotation
from treaty_app.models import Provision, Source

from .fuzzing import (
    BYTE_FAULTS,
    CAPTURE,
    FUZZ,
    OFFICIAL,
    QUOTE,
    TEXT,
    TREATY_TITLE,
    Call,
    Ref,
    World,
    error_message,
    fields,
    file_fingerprint,
    roles,
    segment,
    spoiled,
    text_fault,
)


class TheChecksTests(SimpleTestCase):
    def test_error_message(self):
        """The message check fails the answers it is there to catch: Django's own 403 page, an empty
        405, a fragment whose error list is empty; it passes a fragment's error and a JSON error."""
        from django.http import HttpResponse, JsonResponse

        default_403 = "<!doctype html><html><head><title>403 Forbidden</title></head><body><h1>403 Forbidden</h1><p></p></body></html>"
        cases = [
            (HttpResponse(default_403, status=403), ""),
            (HttpResponse(b"", status=405), ""),
            (HttpResponse('<form><ul class="errorlist"></ul><label>Reply</label></form>', status=422), ""),
            (HttpResponse('<form><ul class="errorlist"><li>This field is required.</li></ul></form>', status=422),
             "This field is required."),
            (JsonResponse({"error": "There is no page 9: the last page is 1."}, status=404),
             "There is no page 9: the last page is 1."),
        ]
        self.assertEqual([error_message(response) for response, _ in cases], [message for _, message in cases])


# The admin is the curators' place: most examples there are theirs.
staff_roles = st.sampled_from(["visitor", "analyst", "curator", "curator", "curator"])

ANNOTATIONS = ("mine", "private", "theirs", "published", "deleted", "retired", "submitted", "hidden", "fuzzy",
               "drifted", "on excerpt", "reply", "my reply")
annotation = segment(*[Ref(name) for name in ANNOTATIONS])
# Both methods on every door; the one a door takes more often, so that most examples get past it.
posts = st.sampled_from(["POST", "POST", "GET"])
gets = st.sampled_from(["GET", "GET", "HEAD", "POST"])
htmx = st.booleans()
TREATY, PROVISION = Ref("treaty", "slug"), Ref("provision", "slug")
START = TEXT.index(QUOTE)
PLACE_WORDS = "the other Party"

# A provision's two path segments: of a provision that exists, or hostile.
PROVISION_PATHS = st.one_of(
    st.sampled_from([(TREATY, PROVISION), (TREATY, "preamble"), (TREATY, "art-2"), (Ref("other treaty", "slug"), "art-1")]),
    st.tuples(segment(TREATY), segment(PROVISION)),
)

# The workspace's filters, on its page and on the query string of every form it posts.
filters = fields({}, optional={"tag": [Ref("naval", "slug")], "author": ["bob"], "visibility": ["team"]})


def act(action, targets, form=None, method=posts):
    """A property for one act on an annotation: mostly the `targets` it applies to, else any
    annotation or a hostile id; any role, any method."""

    @FUZZ
    @given(role=roles, method=method, htmx=htmx, query=filters, form=fields({}) if form is None else form,
           target=st.one_of(segment(*[Ref(name) for name in targets]), annotation))
    def test(self, role, method, htmx, target, query, form):
        self.drive(role, Call(method, ("workspace", "annotations", target, action), form, htmx, query))

    test.__doc__ = f"{action.capitalize()}: any annotation or id, any role, every field hostile in turn."
    return test


class WorkspaceFuzzTests(World, TestCase):
    @FUZZ
    @given(role=roles, method=gets, htmx=htmx, query=filters, path=PROVISION_PATHS)
    def test_workspace_page(self, role, method, htmx, query, path):
        """A provision's workspace, with any filters."""
        self.drive(role, Call(method, ("workspace", *path), query, htmx))

    @FUZZ
    @given(role=roles, method=gets, htmx=htmx, query=filters, path=st.just(("workspace",)))
    def test_home(self, role, method, htmx, query, path):
        """The workspace's home."""
        self.drive(role, Call(method, path, query, htmx))

    @FUZZ
    @given(role=roles, method=posts, htmx=htmx, path=PROVISION_PATHS, query=filters,
           form=st.sampled_from(["offsets", "typed", "excerpt"]).flatmap(lambda kind: fields({
               "offsets": {"exact": [QUOTE], "start": [str(START)], "end": [str(START + len(QUOTE))]},
               "typed": {"exact": [QUOTE], "start": [""], "end": [""]},
               "excerpt": {"exact": ["state of war"], "start": ["4"], "end": ["16"], "excerpt": [Ref("excerpt")]},
           }[kind] | {"body": ["A *new* note."], "tags": [Ref("naval")], "new_tags": ["legal-threshold"],
                      "visibility": ["team"]})))
    def test_create(self, role, method, htmx, path, query, form):
        """A new annotation: by offsets, by typed words or on an excerpt, every field hostile in turn."""
        self.drive(role, Call(method, ("workspace", *path, "annotations"), form, htmx, query))

    test_edit = act("edit", ["mine", "published", "private", "my reply", "theirs"], fields({
        "body": ["Edited *note*."], "tags": [Ref("naval"), Ref("sanctions")], "new_tags": ["Санкции, new one"],
        "visibility": ["private"], "version": [Ref("mine", "version")],
    }))
    test_reply = act("reply", ["mine", "published", "private", "theirs", "reply"], fields({"body": ["A reply."]}))
    test_delete = act("delete", ["mine", "my reply", "published", "theirs"], fields({"version": ["1"]}))
    test_submit = act("submit", ["mine", "private", "submitted", "my reply", "published"])
    test_restore = act("restore", ["deleted", "retired", "mine"])
    test_hide = act("hide", ["theirs", "mine", "published", "hidden"])

    @FUZZ
    @given(role=roles, method=posts, htmx=htmx, target=segment(Ref("drifted"), Ref("fuzzy"), Ref("mine")),
           form=fields({"words": [PLACE_WORDS], "start": [str(TEXT.index(PLACE_WORDS))],
                        "end": [str(TEXT.index(PLACE_WORDS) + len(PLACE_WORDS))], "version": ["1"]},
                       names=["words", "start", "end", "version", "confirm"]))
    def test_place(self, role, method, htmx, target, form):
        """Placing again: typed words, offsets, the confirmation of a close match."""
        self.drive(role, Call(method, ("workspace", "annotations", target, "place"), form, htmx))


SOURCE, TAG = Ref("source", "slug"), Ref("naval", "slug")


class ReaderFuzzTests(World, TestCase):
    @FUZZ
    @given(role=roles, method=gets, htmx=htmx, query=fields({}), path=st.one_of(
        st.just(()), st.just(("sources",)), st.tuples(st.just("treaties"), segment(TREATY, Ref("other treaty", "slug"))),
        PROVISION_PATHS.map(lambda path: ("treaties", *path)),
        st.tuples(st.just("sources"), segment(SOURCE)),
    ))
    def test_pages(self, role, method, htmx, query, path):
        """The home, treaty, provision and source pages, with any path and query."""
        self.drive(role, Call(method, path, query, htmx))

    @FUZZ
    @given(role=roles, method=gets, htmx=htmx, tag=segment(TAG, Ref("sanctions", "slug"), Ref("blockade", "slug")),
           query=fields({}, optional={"provision": [PROVISION], "treaty": [TREATY]}))
    def test_tag_page(self, role, method, htmx, tag, query):
        """A tag's page, narrowed to a provision of a treaty."""
        self.drive(role, Call(method, ("tags", tag), query, htmx))

    @FUZZ
    @given(role=roles, method=gets, htmx=htmx, query=fields(
        {"q": ["state of war"]},
        optional={"tag": [TAG], "source": [SOURCE], "provision": [PROVISION], "treaty": [TREATY]}))
    def test_search(self, role, method, htmx, query):
        """Search: q and every filter hostile in turn."""
        self.drive(role, Call(method, ("search",), query, htmx))

    @FUZZ
    @given(role=roles, method=gets, query=fields({}, optional={"page": ["1", "2", "3"], "size": ["2", "1000"]}))
    def test_collection(self, role, method, query):
        """/annotations.jsonld: any page and size."""
        self.drive(role, Call(method, ("annotations.jsonld",), query))

    @FUZZ
    @given(role=roles, method=gets, query=fields({}), path=PROVISION_PATHS)
    def test_provision_document(self, role, method, query, path):
        """A provision's JSON-LD document, for any treaty and provision."""
        self.drive(role, Call(method, ("treaties", *path, "annotations.jsonld"), query))


# Each changelist: its path, the query its filters read (with values that exist), its actions.
CHANGELISTS = {
    "annotation": (("admin", "annotations", "annotation"), {
        "review": ["submitted"], "adrift": ["yes"], "visibility__exact": ["team"],
        "provision__id__exact": [Ref("provision")], "excerpt__source__id__exact": [Ref("source")],
        "tags__id__exact": [Ref("naval")], "author__id__exact": [Ref("ana")], "deleted_at__isempty": ["1"],
        "hidden_at__isempty": ["0"], "created_at__year": ["2026"], "created_at__month": ["1"],
        "created_at__day": ["1"],
    }, ["publish", "send_back", "hide", "unhide", "restore", "confirm_placement", "retire"],
        [Ref(name) for name in ANNOTATIONS]),
    "tag": (("admin", "annotations", "tag"), {"parent__id__exact": [Ref("naval")], "parent__isnull": ["True"]},
            ["merge", "delete_selected"], [Ref("naval"), Ref("sanctions"), Ref("blockade")]),
    "provision": (("admin", "treaty_app", "provision"), {
        "treaty__id__exact": [Ref("treaty")], "coverage__exact": ["quoted"], "kind__exact": ["article"],
    }, ["delete_selected"], [Ref("provision"), Ref("preamble")]),
    "excerpt link": (("admin", "treaty_app", "excerptlink"), {
        "state__exact": ["approved"], "method__exact": ["implicit"], "provision__treaty__id__exact": [Ref("treaty")],
        "provision__id__exact": [Ref("provision")], "excerpt__source__id__exact": [Ref("source")],
    }, ["approve", "reject", "delete_selected"], [Ref("link"), Ref("proposed link")]),
}
# What every changelist reads besides its filters.
LIST_QUERY = {"q": ["war"], "o": ["1.-2"], "p": ["1"], "all": [""], "e": ["1"], "_facets": ["True"],
              "_to_field": ["id"], "_popup": ["1"]}


def changelist(name):
    path, query, _, _ = CHANGELISTS[name]

    @FUZZ
    @given(role=staff_roles, method=gets, query=fields({}, optional=query | LIST_QUERY))
    def test(self, role, method, query):
        self.drive(role, Call(method, path, query))

    test.__doc__ = f"The {name} changelist: its search, filters, ordering, page and drill-down, each hostile."
    return test


def actions(name):
    path, query, names, rows = CHANGELISTS[name]

    @FUZZ
    @given(role=staff_roles, htmx=htmx, query=fields({}, optional=query | LIST_QUERY), form=st.tuples(st.sampled_from(names), st.lists(segment(*rows), max_size=3)).flatmap(
        lambda chosen: fields({
            "action": [chosen[0]], "index": ["0"], "_selected_action": chosen[1] or [rows[0]],
            "select_across": ["0"], "reason": ["Needs a source."], "into": [Ref("naval")], "post": ["yes"],
        })))
    def test(self, role, htmx, query, form):
        self.drive(role, Call("POST", path, form, htmx, query))

    test.__doc__ = f"The {name} changelist's actions, on any selection, from any filtered list."
    return test


class AdminFuzzTests(World, TestCase):
    test_annotations = changelist("annotation")
    test_tags = changelist("tag")
    test_provisions = changelist("provision")
    test_excerpt_links = changelist("excerpt link")
    test_annotation_actions = actions("annotation")
    test_tag_actions = actions("tag")
    test_provision_actions = actions("provision")
    test_excerpt_link_actions = actions("excerpt link")


# --- Commands ---------------------------------------------------------------------------------------

# Options that make import_source refuse an otherwise good capture.
SOURCE_OPTION_FAULTS = {
    "--date": ["26/06/2024", "2024-02-30", "2024-07-01\x00", "9" * 40, "２０２４-07-01"],
    "--url": ["javascript:alert(1)//x", "ftp://example.org/a", "https://", "https://exa mple.org", "http://a\x00b"],
    "--title": ["x" * 301, "A\x00title", "caf\udce9"],
    "--author": ["a" * 201, "\x00"],
    "--treaty": ["nope", "tcsp\x00", "\udce9", "t" * 51],
    "--language": ["x" * 17, "e\x00n"],
    "--notes": ["\x00", "caf\udce9"],
}
# Text faults of an official treaty text, on top of BYTE_FAULTS.
TREATY_FAULTS = {
    "a heading repeated": text_fault(st.sampled_from(["Preamble", "Article 1", "ARTICLE 02", "article 2 — Again"]).map(
        lambda heading: lambda text: f"{text}\n{heading}\nMore words.\n")),
    "a title that names no treaty": text_fault(st.text(st.characters(categories=["Lu", "Ll", "Lo"]), min_size=1,
                                                       max_size=30).map(
        lambda name: lambda text: text.replace(TREATY_TITLE, f"Treaty of {name}", 1))),
    "no title": text_fault(st.just(lambda text: text.split("\n", 2)[2])),
    "a huge article number": text_fault(st.sampled_from(["1000", "32768", "99999", str(10**20), "9" * 5000]).map(
        lambda number: lambda text: f"{text}\nArticle {number}\nThe words of an article Glossa cannot number.\n")),
    "an article the treaty lacks": text_fault(st.sampled_from(["77", "0", "3"]).map(
        lambda number: lambda text: f"{text}\nArticle {number}\nWords.\n")),
    "a heading without wording": text_fault(st.just(
        lambda text: text.replace("Each Party shall consult the other without delay.", ""))),
    **BYTE_FAULTS,
}
# A treaty that is not here yet, for --new, and what makes such a text unfit to create it from.
NEW_TREATY = OFFICIAL.replace(TREATY_TITLE, "Treaty of Fuzz")
NEW_TREATY_FAULTS = {
    name: TREATY_FAULTS[name] for name in ["a heading repeated", "no title", "a heading without wording", *BYTE_FAULTS]
} | {
    "an article number no provision holds": text_fault(st.sampled_from(["0", "32768", "99999", "9" * 5000]).map(
        lambda number: lambda text: f"{text}\nArticle {number}\nWords.\n")),
    "a date that is no date": text_fault(st.sampled_from(["2024-02-30", "30/02/2024", "9" * 40, "2024-06-19\x00"]).map(
        lambda date: lambda text: text.replace("Treaty of Fuzz\n", f"Treaty of Fuzz\nSigned on: {date}\n", 1))),
}
# Invocations of import_treaty that refuse even a good file.
TREATY_OPTION_FAULTS = [
    ["--treaty", "nope"], ["--treaty", "tcsp\x00"], ["--treaty", "\udce9"], ["--treaty", "t" * 51],
    ["--new"], ["--new", "--treaty", "tcsp"],
]
# With --new and a title of its own, a slug that cannot be a treaty's: the file is good, the slug is not.
BAD_SLUGS = ["Not a slug", "t" * 51, "tcsp\x00", "договор", "../x", "a/b", "\udce9"]


class CommandFuzzTests(World, TestCase):
    """Bad files and invocations of import_source and import_treaty: a CommandError that names the
    file, never another exception, and nothing changed."""

    def refused(self, command, data, *arguments, name="capture.txt"):
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / name
            path.write_bytes(data)
            before = file_fingerprint()
            out, err = StringIO(), StringIO()
            with self.assertRaises(CommandError) as raised:
                call_command(command, str(path), *arguments, stdout=out, stderr=err)
            message = str(raised.exception).replace(str(path), "FILE")
            event(f"refused: {message.removeprefix('FILE was not imported (nothing was changed): ')[:60]}")
            self.assertIn(str(path), str(raised.exception))
            self.assertNotIn("Traceback", out.getvalue() + err.getvalue())
            self.assertEqual(file_fingerprint(), before, f"{command} {arguments} changed the database")

    def test_the_unspoilt_files_import(self):
        """The files the properties spoil import as they are: the faults are what the commands refuse."""
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "capture.txt"
            path.write_text(CAPTURE)
            call_command("import_source", str(path), "--treaty", "tcsp", stdout=StringIO())
            path.write_text(OFFICIAL.replace("without delay", "at once"))
            call_command("import_treaty", str(path), stdout=StringIO())
            path.write_text(OFFICIAL.replace(TREATY_TITLE, "Treaty of Fuzz"))
            call_command("import_treaty", str(path), "--new", "--treaty", "fuzz", stdout=StringIO())
        self.assertEqual(Source.objects.filter(capture_name="capture.txt").count(), 1)
        self.assertEqual(Provision.objects.get(treaty__slug="tcsp", slug="art-2").text,
                         "Each Party shall consult the other at once.")
        self.assertEqual(Provision.objects.filter(treaty__slug="fuzz").count(), 3)

    @FUZZ
    @given(file=spoiled(CAPTURE, BYTE_FAULTS, at_least=0),
           options=st.dictionaries(st.sampled_from(sorted(SOURCE_OPTION_FAULTS)), st.just(None), max_size=2).flatmap(
               lambda names: st.fixed_dictionaries({name: st.sampled_from(SOURCE_OPTION_FAULTS[name]) for name in names})))
    def test_import_source(self, file, options):
        """import_source on a capture that is not UTF-8, holds a NUL or nothing, or with options it
        cannot store (a file with no fault gets at least one bad option)."""
        data, faults = file
        if not faults and not options:
            options = {"--date": "2024-02-30"}
        arguments = ["--treaty", "tcsp", *[part for option in options.items() for part in option]]
        self.refused("import_source", data, *arguments)

    @FUZZ
    @given(file=spoiled(OFFICIAL, TREATY_FAULTS, at_least=0), options=st.sampled_from([[], *TREATY_OPTION_FAULTS]),
           dry=st.sampled_from([[], ["--dry-run"]]))
    def test_import_treaty(self, file, options, dry):
        """import_treaty on an official text with a fault (bytes, headings, title, article numbers,
        wording), or invoked in a way that refuses it (a file with no fault gets a bad invocation)."""
        data, faults = file
        if not faults and not options:
            options = ["--treaty", "nope"]
        self.refused("import_treaty", data, *options, *dry, name="official.txt")

    @FUZZ
    @given(file=spoiled(NEW_TREATY, NEW_TREATY_FAULTS, at_least=0), slug=st.sampled_from(["fuzz", *BAD_SLUGS]),
           header=st.booleans(), dry=st.sampled_from([[], ["--dry-run"]]))
    def test_import_treaty_new(self, file, slug, header, dry):
        """import_treaty --new on a text of a treaty not here yet, with a fault of the text, or with a slug
        that no treaty can have, given with --treaty or a Slug: line (a file with no fault gets a bad slug)."""
        data, faults = file
        if not faults and slug == "fuzz":
            slug = BAD_SLUGS[0]
        if header and "\x00" not in slug and "\udce9" not in slug:
            data = data.replace(b"Treaty of Fuzz\n", f"Treaty of Fuzz\nSlug: {slug}\n".encode(), 1)
            options = []
        else:
            options = ["--treaty", slug]
        self.refused("import_treaty", data, "--new", *options, *dry, name="official.txt")


# A W3C Web Annotation that import_annotations takes as it is (test_the_unspoilt_documents_import):
# a new note on Article 1's words, tagged. Each property below spoils it one way.
W3C_ITEM = {
    "id": "https://glossa.example/treaties/tcsp/art-1/#annotation-900",
    "type": "Annotation",
    "motivation": "commenting",
    "created": "2026-01-05T10:00:00+00:00",
    "creator": {"type": "Person", "nickname": "ana"},
    "body": [
        {"type": "TextualBody", "value": "An imported note.", "format": "text/markdown", "purpose": "commenting"},
        {"type": "TextualBody", "purpose": "tagging", "value": "naval", "glossa:tag": "https://glossa.example/tags/naval/"},
    ],
    "target": {
        "source": "https://glossa.example/treaties/tcsp/art-1/",
        "selector": [{"type": "TextQuoteSelector", "exact": QUOTE},
                     {"type": "TextPositionSelector", "start": START, "end": START + len(QUOTE)}],
    },
    "glossa:visibility": "team",
    "glossa:textVersion": 1,
}
W3C_PAGE = {"@context": "http://www.w3.org/ns/anno.jsonld", "id": "http://testserver/annotations.jsonld?page=1",
            "type": "AnnotationPage", "items": [W3C_ITEM]}

# Where an item holds text (stored, or read to find a row), a number, or a node, by path: each
# property spoils one of them. The id is left out of the texts: it is read for its number only.
W3C_TEXT = [("created",), ("motivation",), ("creator", "nickname"), ("body", 0, "value"), ("body", 0, "format"),
            ("body", 1, "value"), ("body", 1, "glossa:tag"), ("target", "source"), ("target", "selector", 0, "exact"),
            ("glossa:visibility",)]
# The texts that are stored or looked up (a tag's name is not, when its slug is a tag's already).
W3C_STORED = [path for path in W3C_TEXT if path != ("body", 1, "value")]
W3C_NUMBERS = [("target", "selector", 1, "start"), ("target", "selector", 1, "end"), ("glossa:textVersion",)]
W3C_NODES = [("type",), ("id",), ("creator",), ("body",), ("body", 0), ("body", 0, "type"), ("body", 0, "purpose"),
             ("target",), ("target", "selector"), ("target", "selector", 0), ("target", "selector", 0, "type")]
# Values of a type the field cannot have (never null, which may stand for absent; never a whole
# number where one is due: a position that does not fit is placed again by its quote).
NOT_TEXT = [5, -1, 1.5, True, [], ["a", "b"], {}, {"type": ["Annotation"]}, [{"type": "TextQuoteSelector"}]]
NOT_NUMBER = [1.5, True, "1", [], {}, {"type": ["Annotation"]}]


def put(document, path, value):
    """A copy of `document` with `value` at `path` (keys and list indexes), in its one item."""
    document = json.loads(json.dumps(document))
    node = document["items"][0]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return document


def json_bytes(document, **replacements):
    """The document as a file, with each placeholder string replaced by raw JSON."""
    data = json.dumps(document, ensure_ascii=False).encode("utf-8")
    for placeholder, raw in replacements.items():
        data = data.replace(f'"{placeholder}"'.encode(), raw.encode())
    return data


def nested(depth, kind):
    """The page, `depth` levels down in lists or objects."""
    opening, closing = ("[", "]") if kind == "list" else ('{"items": ', "}")
    return (opening * depth + json.dumps(W3C_PAGE) + closing * depth).encode()


def huge_number(where, digits):
    """The page with a number of `digits` nines where no such number can be: the wording version
    (stored as it is), the number in the id (the key it keeps), or a position (past what Python reads)."""
    number = "9" * digits
    if where == "id":
        return json_bytes(put(W3C_PAGE, ("id",), f"https://glossa.example/treaties/tcsp/art-1/#annotation-{number}"))
    path = {"version": ("glossa:textVersion",), "start": ("target", "selector", 1, "start")}[where]
    return json_bytes(put(W3C_PAGE, path, "NUMBER"), NUMBER=number)


# (where, digits) of a number that cannot be there.
HUGE_NUMBERS = [("version", digits) for digits in (11, 20, 300, 4300, 4301, 20_000)] + [
    ("id", digits) for digits in (20, 300, 4300, 4301, 20_000)] + [("start", digits) for digits in (4301, 20_000)]


class AnnotationImportFuzzTests(World, TestCase):
    """import_annotations on bad JSON-LD: a CommandError that names the file, never another
    exception, and nothing changed. The inputs that failed before the fix are explicit examples."""

    def refused(self, data):
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "annotations.jsonld"
            path.write_bytes(data)
            before = file_fingerprint()
            with self.assertRaises(CommandError) as raised:
                call_command("import_annotations", str(path), stdout=StringIO(), stderr=StringIO())
            self.assertIn(str(path), str(raised.exception))
            self.assertEqual(file_fingerprint(), before)
        return str(raised.exception)

    def test_each_refusal_says_what_and_where(self):
        """The four faults the properties found, each refused with a sentence naming its place."""
        cases = [
            (nested(5000, "list"), "nests lists or objects more than 64 levels deep"),
            (huge_number("start", 4301), "a number of 4301 digits: no annotation holds one of more than 19"),
            (huge_number("version", 11), "glossa:textVersion 99999999999 is larger than any version"),
            (huge_number("id", 20), "is larger than any annotation's"),
            (json_bytes(put(W3C_PAGE, ("creator", "nickname"), "TEXT"), TEXT='"x\\ud800"'),
             "items[0] › creator › nickname holds a lone surrogate (U+D800, half of a character) at character 2"),
            (json_bytes(put(W3C_PAGE, ("body", 0, "format"), {})), "items[0] › body[0] › format must be a name"),
        ]
        for data, message in cases:
            with self.subTest(message):
                self.assertIn(message, self.refused(data))

    def test_the_unspoilt_document_imports(self):
        """The document the properties spoil imports as it is: the faults are what the command refuses."""
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "annotations.jsonld"
            path.write_bytes(json_bytes(W3C_PAGE))
            call_command("import_annotations", str(path), stdout=StringIO())
        self.assertEqual(Annotation.objects.get(pk=900).body, "An imported note.")

    @FUZZ
    @example(depth=100_000, kind="list")
    @given(depth=st.sampled_from([2, 10, 500, 1000, 5000, 100_000]), kind=st.sampled_from(["list", "object"]))
    def test_deep_nesting(self, depth, kind):
        """The page nested in lists or objects, 2 to 100,000 levels deep."""
        self.refused(nested(depth, kind))

    @FUZZ
    @example(case=("version", 20))
    @example(case=("id", 20))
    @example(case=("start", 4301))
    @given(case=st.sampled_from(HUGE_NUMBERS))
    def test_huge_integers(self, case):
        """A number too large for where it stands: the wording version (a 32-bit column), the number
        in the id (the 64-bit key it keeps), a position of more than 4,300 digits (a smaller one that
        does not fit is placed again by its quote, by design)."""
        self.refused(huge_number(*case))

    @FUZZ
    @example(path=("creator", "nickname"), character="\\ud800")
    @given(path=st.sampled_from(W3C_STORED), character=st.sampled_from(["\\ud800", "\\udfff", "\\u0000"]))
    def test_lone_surrogates_and_nul(self, path, character):
        """A lone surrogate or a NUL, written as a JSON escape, in a text of the item."""
        self.refused(json_bytes(put(W3C_PAGE, path, "TEXT"), TEXT=f'"x{character}"'))

    @FUZZ
    @example(path=("type",), value={})
    @given(path=st.sampled_from(W3C_TEXT + W3C_NODES + W3C_NUMBERS), value=st.sampled_from(NOT_TEXT + NOT_NUMBER))
    def test_wrong_types(self, path, value):
        """A value of a type the field cannot have, anywhere in the item."""
        assume(path not in W3C_NUMBERS or value in NOT_NUMBER)
        assume(path in W3C_NUMBERS or value != "1")
        self.refused(json_bytes(put(W3C_PAGE, path, value)))
