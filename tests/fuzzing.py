"""What tests/test_fuzz.py drives with, and what it checks: hostile values, requests built from them
as a browser would send them, the fixture rows they aim at, and the checks every answer must pass.

A request is described with symbols (``Ref("mine")`` for the pk of a fixture row), so that a
strategy can be written before the rows exist; `World.resolve` turns them into values.
"""

import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import quote, quote_plus

from django.apps import apps
from django.core.cache import caches
from django.db.models import Count, Max, Sum
from django.utils import timezone
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st

from annotations.models import Annotation, Tag
from treaty_app.models import ContentVersion, Excerpt, ExcerptLink, Provision, Source, Treaty

from .factories import (
    annotation_row,
    link,
    make_annotation,
    make_excerpt,
    make_provision,
    make_source,
    make_user,
)

# A fixed budget, the same examples on every run (CI is repeatable), no example database written
# into the work tree, and no per-example deadline: a page takes what it takes on a shared machine.
FUZZ = settings(
    max_examples=30, derandomize=True, deadline=None, database=None, print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)

TEXT = (
    "In the event that one of the Parties 🇰🇵 (Корея, 조선) is subjected to an armed attack by an individual "
    "country and thus finds itself in a state of war, the other Party shall immediately provide military and "
    "other assistance with all means in its possession."
)
QUOTE = "finds itself in a state of war"
EXCERPT_BODY = "A commentary on the treaty.\n\nThe state of war clause is the heart of it.\n\nA third paragraph."
TREATY_TITLE = "Treaty on Comprehensive Strategic Partnership"

# --- Values ----------------------------------------------------------------------------------------

SPECIAL_TEXT = [
    "", " ", "\x00", "a\x00b", "\x00" * 3, "\ud800", "note \udfff", "\udbff\udc00x\ud800",
    "\u202etxet desrever", "שלום עולם", "مرحبا بالعالم", "e\u0301\u0301\u0301", "\u0301", "\u200b\u200d",
    "\ufeff", "\r\n\r\n", "\t", "🇰🇵🏳️‍🌈", "\uffff\ufffe", "<script>alert(1)</script>", "javascript:alert(1)",
    "'; DROP TABLE annotations_annotation; --", "%00", "%ED%A0%80", "..", "../../etc/passwd", "{{ 7|add:7 }}",
    "Санкции", "naval", "state of war", "team", "private", "public",
]
NUMBERS = [
    "0", "1", "-1", "2", "+1", " 7 ", "1.5", "1e9", "0x10", "²", "١٢", "NaN", "inf", "-0",
    str(2**31), str(2**31 - 1), str(2**32), str(2**63 - 1), str(2**63), str(2**64), str(-(2**63) - 1),
    "9" * 30, "9" * 31, "9" * 4301, "-" + "9" * 4301,
]
_any_character = st.one_of(st.characters(), st.characters(categories=["Cs"]), st.sampled_from("\x00\u0301\u202e\u200f"))
_long_text = st.builds(
    lambda unit, times: unit * times,
    st.one_of(st.sampled_from(["a", "war ", "\x00", "é", "🇰🇵", "e\u0301", "\u202e", "x\n"]),
              st.text(_any_character, min_size=1, max_size=4)),
    st.integers(min_value=200, max_value=60_000),
)
# Mapped so that one_of() does not flatten these kinds into a caller's one_of (which would then
# pick a hostile value five times in six).
hostile_text = st.one_of(
    st.sampled_from(SPECIAL_TEXT),
    st.sampled_from(NUMBERS),
    st.text(_any_character, max_size=30),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    _long_text,
).map(str)


@dataclass(frozen=True)
class Ref:
    """The pk (or another attribute) of a fixture row, known once the rows exist."""

    name: str
    attribute: str = "pk"


# --- Requests --------------------------------------------------------------------------------------

# The three roles: a visitor is sent to log in before any field is read: fewer of them, more examples that get in.
roles = st.sampled_from(["visitor", "analyst", "analyst", "curator", "curator"])


@dataclass(frozen=True)
class Call:
    """One request: method, path segments (fixed text, Refs or hostile text), parameters (the query
    of a GET, the form of a POST), a POST's query string, and whether HTMX sends it."""

    method: str
    path: tuple
    params: tuple = ()
    htmx: bool = False
    query: tuple = ()


# The values that have broken Glossa, or a database under it: every field gets each at once in
# the "poisoned" requests, so that a fixed budget tries them on every field.
POISON = ["\x00", "a\x00b", "\ud800", str(2**63), "-1", "9" * 4301, "é" * 20_000, "\u202e\u0301"]


def fields(base, *, optional=None, names=None):
    """Parameters built from valid ``base`` ({name: [values]}) and any of the valid ``optional`` ones
    (filters that narrow what a valid request finds). Three kinds, tried in this order:

    * valid: as given, so that the paths past the validation are driven too;
    * changed: up to three changes, each dropping a field, replacing it with a hostile value,
      repeating it with one, or adding an unknown name;
    * poisoned: every field (and an unknown one) holds the same value from POISON."""
    if optional:
        return st.sets(st.sampled_from(sorted(optional))).flatmap(lambda chosen: fields(
            base | {name: optional[name] for name in sorted(chosen)}, names=names or [*base, *sorted(optional)]))
    names = list(names or base)
    change = st.tuples(
        st.sampled_from(names + ["*unknown*"]),
        st.sampled_from(["drop", "replace", "repeat"]),
        hostile_text,
        hostile_text,
    )

    def apply(changes):
        params = {name: list(values) for name, values in base.items()}
        extra = []
        for name, how, value, unknown_name in changes:
            if name == "*unknown*":
                extra.append((unknown_name, value))
            elif how == "drop":
                params.pop(name, None)
            elif how == "replace":
                params[name] = [value]
            else:
                params[name] = [*params.get(name, []), value]
        return tuple((name, value) for name, values in params.items() for value in values) + tuple(extra)

    def poisoned(value):
        return tuple((name, value) for name in names) + ((value, value),)

    return st.integers(0, 2).flatmap(lambda kind: (
        st.just(apply([])) if kind == 0
        else st.lists(change, min_size=1, max_size=3).map(apply) if kind == 1
        else st.sampled_from(POISON).map(poisoned)
    ))


def segment(*valid):
    """A path segment: mostly one that exists (a hostile path is a 404 before any view runs), else
    hostile text (a number, a NUL, a surrogate, 60,000 letters)."""
    # Hypothesis tries small choices first: 0 to 2 (an existing segment) before 3 (a hostile one).
    return st.integers(0, 3).flatmap(lambda n: st.sampled_from(valid) if n < 3 else hostile_text)


def _encode(text):
    # As a browser sends it: UTF-8, percent-encoded. A lone surrogate becomes the three bytes a
    # careless encoder produces (ED A0 80), which are not UTF-8.
    return text.encode("utf-8", "surrogatepass")


def encode_params(params):
    return "&".join(f"{quote_plus(_encode(name))}={quote_plus(_encode(value))}" for name, value in params)


# The last segments that name a file, not a page: no slash after them.
FILES = {"annotations.jsonld"}


def send(client, call, resolve):
    segments = [quote(_encode(str(resolve(part))), safe="") for part in call.path]
    path = "/" + "/".join(segments) + ("/" if segments and segments[-1] not in FILES else "")

    def encoded(params):
        return encode_params([(name, str(resolve(value))) for name, value in params])

    headers = {"HX-Request": "true"} if call.htmx else {}
    if call.method == "POST":
        query = encoded(call.query)
        return client.post(path + ("?" + query if query else ""), data=encoded(call.params).encode("ascii"),
                           content_type="application/x-www-form-urlencoded", headers=headers)
    query = encoded(call.params)
    return client.generic(call.method, path + ("?" + query if query else ""), headers=headers)


# --- Checks ----------------------------------------------------------------------------------------

# How Glossa marks an error for a person in a fragment (form errors, refusals, the admin's error notes).
ERROR_CLASSES = {"errorlist", "errornote", "refusal", "conflict", "search-error"}
_LETTER = re.compile(r"[^\W\d_]")


class _PageText(HTMLParser):
    """A page's text as a person reads it: that of <main> when there is one (else of <body>), without
    the site's header, navigation and footer; and, apart, the text of the elements marked as an
    error (role="alert" or an error class)."""

    VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})
    UNREAD = frozenset({"title", "script", "style", "header", "nav", "footer", "template"})

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []  # (tag, is an error, is unread) of each open element
        self.errors, self.body, self.main = [], [], []

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        attrs = dict(attrs)
        error = attrs.get("role") == "alert" or bool(ERROR_CLASSES & set((attrs.get("class") or "").split()))
        if error and not any(open_error for _, open_error, _ in self.stack):
            self.errors.append([])
        self.stack.append((tag, error, tag in self.UNREAD))

    def handle_endtag(self, tag):
        # Close up to the matching element: stray or unclosed tags cannot unbalance the stack.
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break

    def handle_data(self, data):
        if any(unread for _, _, unread in self.stack):
            return
        if any(error for _, error, _ in self.stack):
            self.errors[-1].append(data)
        (self.main if any(tag == "main" for tag, _, _ in self.stack) else self.body).append(data)


def error_message(response):
    """The message a person reads on a 4xx answer, or "" when there is none.

    JSON: its ``error``. An HTMX fragment: the text of an element marked as an error. A whole page:
    its text (that of <main>, when it has one) beyond the status code and phrase. Each must have a
    letter in it."""
    content_type = response.get("Content-Type", "")
    body = response.content.decode("utf-8", "replace")
    if "json" in content_type:
        try:
            message = json.loads(body).get("error", "")
        except (ValueError, AttributeError):
            return ""
        return message if isinstance(message, str) and _LETTER.search(message) else ""
    parser = _PageText()
    parser.feed(body)
    parser.close()
    if "<html" not in body.lower():
        candidates = ["".join(parts) for parts in parser.errors]
    else:
        text = " ".join("".join(parser.main or parser.body).split())
        for status in (str(response.status_code), response.reason_phrase):
            text = re.sub(rf"\b{re.escape(status)}\b", "", text, flags=re.IGNORECASE)
        candidates = [text]
    return next((" ".join(text.split()) for text in candidates if _LETTER.search(text)), "")


def fingerprint():
    """A cheap summary of what a write changes: annotations (each row's state), their tags, the tag
    vocabulary, every history table, the excerpt links, the wording versions and the content versions."""
    history = {}
    for model in apps.get_models():
        if model._meta.db_table.startswith(("annotations_historical", "treaty_app_historical")):
            history[model._meta.label] = tuple(model.objects.aggregate(n=Count("pk"), top=Max("pk")).values())
    return {
        "annotations": list(Annotation.objects.order_by("pk").values_list(
            "pk", "version", "visibility", "review", "placement", "deleted_at", "hidden_at", "body", "revision_body",
            "start", "end")),
        "annotation tags": list(Annotation.tags.through.objects.order_by("pk").values_list("pk", "annotation", "tag")),
        "revision tags": Annotation.revision_tags.through.objects.count(),
        "tags": list(Tag.objects.order_by("pk").values_list("pk", "name", "slug", "parent", "colour")),
        "history": history,
        "excerpt links": list(ExcerptLink.objects.order_by("pk").values_list("pk", "state")),
        "provisions": list(Provision.objects.order_by("pk").values_list("pk", "text_version", "coverage")),
        "corpus": (Treaty.objects.count(), Source.objects.count(), Excerpt.objects.count(),
                   Provision.objects.aggregate(total=Sum("text_version"))["total"]),
        "content versions": list(ContentVersion.objects.order_by("scope").values_list("scope", "version")),
    }


def describe(call, response):
    return f"{call.method} {response.request['PATH_INFO']}?{response.request.get('QUERY_STRING', '')} → {response.status_code}"


def check_answer(test, call, response, before):
    """No 5xx; a 4xx says why in words and changed nothing."""
    status = response.status_code
    test.assertLess(status, 500, describe(call, response))
    if 400 <= status < 500:
        # A HEAD answer has no body to read: it says no more than its status.
        test.assertTrue(call.method == "HEAD" or error_message(response),
                        f"{describe(call, response)} has no message a person can read:\n"
                        f"{response.content[:2000].decode('utf-8', 'replace')}")
        test.assertEqual(fingerprint(), before, f"{describe(call, response)} changed the database")


# --- The rows the requests aim at ------------------------------------------------------------------


class World:
    """Fixture rows for a TestCase: two treaties, commentary, tags in two scripts, and annotations in
    every state an analyst or curator can act on. Mix into a TestCase with setUpTestData."""

    @classmethod
    def setUpTestData(cls):
        treaty = Treaty.objects.create(slug="tcsp", title=TREATY_TITLE, short_title="TCSP",
                                       parties="Party A; Party B")
        other_treaty = Treaty.objects.create(slug="other", title="Another Treaty", short_title="Other",
                                             parties="Party C; Party D")
        preamble = make_provision(treaty, text="The Parties, desiring peace, agree as follows.")
        provision = make_provision(treaty, number=1, text=TEXT, heading="Mutual assistance")
        make_provision(treaty, number=2, text="Each Party shall consult the other without delay.")
        make_provision(other_treaty, number=1, text="A provision of another treaty.")

        source = make_source(body=EXCERPT_BODY, slug="commentary")
        start = EXCERPT_BODY.index("The state")
        excerpt = make_excerpt(source, start, EXCERPT_BODY.index("\n\nA third"))
        link(excerpt, provision)
        proposed = make_excerpt(source, EXCERPT_BODY.index("A third"), len(EXCERPT_BODY))
        link(proposed, preamble, state=ExcerptLink.State.PROPOSED)

        cls.analyst = make_user("ana")
        colleague = make_user("bob")
        cls.curator = make_user("cora", role="Curators", is_staff=True)
        naval = Tag.objects.create(name="naval", slug="naval", colour="#336699")
        sanctions = Tag.objects.create(name="Санкции", slug="санкции")
        blockade = Tag.objects.create(name="blockade", slug="blockade", parent=naval)

        at = TEXT.index(QUOTE)
        span = (at, at + len(QUOTE))
        now = timezone.now()
        rows = {
            "mine": make_annotation(provision, cls.analyst, *span, body="My *team* note.", tags=[naval]),
            "private": make_annotation(provision, cls.analyst, 0, 12, body="Private.", visibility="private"),
            "theirs": make_annotation(provision, colleague, 3, 9, body="Bob's note.", tags=[blockade]),
            "published": make_annotation(provision, cls.analyst, *span, body="Published note.", visibility="public",
                                         review="published", tags=[sanctions, naval]),
            "deleted": make_annotation(provision, cls.analyst, 0, 6, body="Deleted.", deleted_at=now,
                                       deleted_by=cls.analyst),
            "retired": make_annotation(provision, cls.analyst, 0, 6, body="Retired.", deleted_at=now,
                                       deleted_by=cls.curator),
            "submitted": make_annotation(provision, cls.analyst, 3, 9, body="Awaiting.", review="submitted",
                                         submitted_at=now),
            "hidden": make_annotation(provision, colleague, 3, 9, body="Hidden.", hidden_at=now,
                                      hidden_by=cls.curator),
            "fuzzy": make_annotation(provision, cls.analyst, *span, body="Fuzzy.", placement="fuzzy"),
            "drifted": annotation_row(provision=provision, author=cls.analyst, body="Drifted.", placement="drifted",
                                      exact="words no longer there", anchored_text="Old wording with words no "
                                      "longer there.", text_version=1),
            "on excerpt": annotation_row(excerpt=excerpt, author=cls.analyst, body="On the excerpt.", start=0, end=9,
                                         exact=excerpt.text[:9]),
        }
        rows["reply"] = annotation_row(parent=rows["published"], author=colleague, body="A public reply.",
                                       visibility="public", review="published")
        rows["my reply"] = annotation_row(parent=rows["mine"], author=cls.analyst, body="My reply.")
        cls.refs = {
            **rows,
            "naval": naval, "sanctions": sanctions, "blockade": blockade,
            "treaty": treaty, "other treaty": other_treaty, "provision": provision, "preamble": preamble,
            "source": source, "excerpt": excerpt, "proposed excerpt": proposed,
            "link": ExcerptLink.objects.get(excerpt=excerpt), "proposed link": ExcerptLink.objects.get(excerpt=proposed),
            "ana": cls.analyst, "bob": colleague, "cora": cls.curator,
        }

    def resolve(self, value):
        if isinstance(value, Ref):
            return getattr(self.refs[value.name], value.attribute)
        return value

    def setup_example(self):
        super().setup_example()
        # The page caches outlive a rolled-back example: each example starts without them.
        for cache in caches.all():
            cache.clear()

    def client_for(self, role):
        if role == "analyst":
            self.client.force_login(self.analyst)
        elif role == "curator":
            self.client.force_login(self.curator)
        return self.client

    def drive(self, role, call):
        """Send `call` as `role` and check the answer; returns the response."""
        client = self.client_for(role)
        before = fingerprint()
        response = send(client, call, self.resolve)
        # What the examples reached (pytest --hypothesis-show-statistics): not all 404s.
        event(f"{role} {call.method}{' htmx' if call.htmx else ''} → {response.status_code}")
        check_answer(self, call, response, before)
        return response


# --- Files for the import commands -----------------------------------------------------------------

CAPTURE = (
    "A commentary on the treaty\n\nArticle 1 of the treaty binds each Party to help the other at once.\n\n"
    "The preamble recalls the Charter of the United Nations.\n"
)
OFFICIAL = (
    f"{TREATY_TITLE}\n\nPreamble\nThe Parties, desiring peace, agree as follows.\n\n"
    f"Article 1 — Mutual assistance\n{TEXT}\n\nArticle 2\nEach Party shall consult the other without delay.\n"
)

# Bytes that are not UTF-8: a stray byte, a broken pair, an overlong slash, a code point past
# U+10FFFF, and lone surrogates as a careless encoder writes them.
NOT_UTF8 = [b"\xff", b"\xfe\xff", b"\xc3\x28", b"\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80", b"\xed\xa0\x80",
            b"\xed\xbf\xbf"]
EMPTY = [b"", b"\n", b"\n\n \t\n", b"\r\n\r\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf\n\n"]
# Not faults by themselves: text that is hard to handle, put in beside a fault.
STRESS = ["x" * 200_000, "war " * 50_000, "\u202e" + "שלום " * 1000, "e\u0301" * 5000, "\r\n" * 1000]


def insert(data, at, piece):
    """`piece` put into `data` at the fraction `at` of its length, not inside a UTF-8 sequence."""
    cut = int(len(data) * at)
    while 0 < cut < len(data) and 0x80 <= data[cut] < 0xC0:
        cut -= 1
    return data[:cut] + piece + data[cut:]


positions = st.floats(min_value=0, max_value=1)
stress = st.lists(st.tuples(positions, st.sampled_from(STRESS)), max_size=1)


def spoiled(text, faults, *, at_least=1):
    """(bytes, the names of the faults) of `text` with at least `at_least` of `faults` done to it,
    and maybe a stressing line. `faults` maps a name to a strategy of (stage, function): "text"
    functions take and give text and run first, "bytes" ones take and give bytes and run last."""
    def apply(chosen):
        (names, done), extra = chosen
        spoilt = text
        for stage, function in done:
            if stage == "text":
                spoilt = function(spoilt)
        data = spoilt.encode("utf-8")
        for at, line in extra:
            # Between two lines after the first heading: a treaty text's title stays its title.
            after = max(data.find(b"Preamble\n"), 0)
            starts = [index + 1 for index, byte in enumerate(data) if byte == 0x0A and index > after] or [len(data)]
            cut = starts[int(at * (len(starts) - 1))]
            data = data[:cut] + (line + "\n").encode("utf-8") + data[cut:]
        for stage, function in done:
            if stage == "bytes":
                data = function(data)
        # The faults, apart from the stressing line, which is no fault.
        return data, names

    chosen = st.lists(st.sampled_from(sorted(faults)), min_size=at_least, max_size=2, unique=True).flatmap(
        lambda names: st.tuples(st.just(names), st.tuples(*[faults[name] for name in names])))
    return st.tuples(chosen, stress).map(apply)


def text_fault(strategy):
    return strategy.map(lambda function: ("text", function))


BYTE_FAULTS = {
    # The faults any text file can have: bytes that are not UTF-8, a NUL, nothing at all.
    "not UTF-8": st.tuples(positions, st.sampled_from(NOT_UTF8)).map(
        lambda fault: ("bytes", lambda data: insert(data, *fault))),
    "a NUL": positions.map(lambda at: ("bytes", lambda data: insert(data, at, b"\x00"))),
    "empty": st.sampled_from(EMPTY).map(lambda empty: ("bytes", lambda data: empty)),
}


def file_fingerprint():
    """fingerprint(), with what an import writes besides: sources, excerpts and every wording."""
    return {
        **fingerprint(),
        "sources": list(Source.objects.order_by("pk").values_list("pk", "slug", "body")),
        "excerpts": list(Excerpt.objects.order_by("pk").values_list("pk", "source", "start", "end")),
        "wording": list(Provision.objects.order_by("pk").values_list("pk", "treaty", "slug", "heading", "text")),
        "treaties": list(Treaty.objects.order_by("pk").values_list("pk", "slug", "title")),
    }
