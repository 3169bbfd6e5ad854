"""Bring texts into the corpus: the shipped first corpus, a commentary capture, an official treaty text.

Each public function is one atomic, rerunnable write: running it twice changes nothing,
and a failure leaves the database as it was. Problems raise CorpusError with a sentence
a curator can act on; the management commands turn it into a CommandError.
"""

import datetime
import itertools
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from . import rules
from .cleaning import body_from_paragraphs, clean_capture
from .models import CrossReference, Excerpt, ExcerptLink, Provision, QuotedPassage, Source, Treaty, text_digest
from .references import find_references
from . import versioning
from .wording import save_wording

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"


class CorpusError(Exception):
    """An input that cannot be imported; the message says what and where."""


@dataclass
class ImportReport:
    created: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def count(self, name, created):
        (self.created if created else self.unchanged)[name] += 1

    def merge(self, other):
        self.created.update(other.created)
        self.unchanged.update(other.unchanged)
        self.updated.update(other.updated)
        self.notes.extend(other.notes)

    def summary(self):
        names = sorted(set(self.created) | set(self.updated) | set(self.unchanged))
        parts = [
            f"{name}: {self.created[name]} created, {self.updated[name]} updated, {self.unchanged[name]} unchanged"
            for name in names
        ]
        return "; ".join(parts) or "nothing to do"


def paragraph_spans(body):
    """(start, end) of each paragraph of a cleaned body, whose paragraphs are separated by a blank line."""
    start = 0
    for paragraph in body.split("\n\n"):
        if paragraph:
            yield start, start + len(paragraph)
        start += len(paragraph) + 2


def parse_date(value, *, what):
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CorpusError(f"{what}: {value!r} is not a date in the form YYYY-MM-DD.") from None


def find_treaty(slug=None):
    """The treaty with this slug, or the only treaty when no slug is given."""
    treaties = Treaty.objects.all()
    if slug:
        slug = checked(rules.clean_text, slug, field="the treaty slug",
                       max_length=rules.max_length_of(Treaty, "slug"))
        treaties = treaties.filter(slug=slug)
    found = list(treaties[:2])
    if len(found) == 1:
        return found[0]
    if slug:
        raise CorpusError(f"there is no treaty with the slug {slug!r}.")
    if not found:
        raise CorpusError("there is no treaty yet: run load_corpus first.")
    raise CorpusError("several treaties exist: say which with --treaty SLUG.")


def checked(rule, value, *, where="", **options):
    """``rule(value, **options)`` from treaty_app.rules, its ValidationError turned into a CorpusError."""
    try:
        return rule(value, **options)
    except ValidationError as error:
        raise CorpusError(f"{where}{' '.join(error.messages)}") from None


# --- Commentary sources ---------------------------------------------------------------------------

# What import_source stores from its caller, each checked against the Source field of that name,
# and how an error names it (the keyword, which is also import_source's command option).
SOURCE_INPUTS = {"capture_name": "the file name", "title": "title", "author": "author", "outlet": "outlet",
                 "url": "url", "language": "language", "notes": "notes"}


def clean_source_inputs(capture, **values):
    """The capture and the facts given for it, as import_source stores them, or a CorpusError
    naming the capture and the first field that Source's own rules refuse (NUL, lone
    surrogates, more characters than the field holds, an address that is not http(s))."""
    shown_name = rules.shown(values["capture_name"])
    cleaned = {}
    for name, label in SOURCE_INPUTS.items():
        try:
            cleaned[name] = rules.clean_field_value(Source, name, values[name] or "", field=label)
        except ValidationError as error:
            raise CorpusError(f"{shown_name}: {' '.join(error.messages)}") from None
    cleaned["capture"] = checked(rules.clean_text, capture, field=f"the capture {shown_name}")
    return cleaned


def free_source_slug(base):
    """``base``, or ``base-2``, ``base-3``… when another source has it: two commentaries by one
    author on one day under one title are still two sources."""
    max_length = rules.max_length_of(Source, "slug")
    base = base[:max_length].strip("-") or "source"
    for number in itertools.count(1):
        suffix = f"-{number}" if number > 1 else ""
        candidate = base[: max_length - len(suffix)].rstrip("-") + suffix
        if not Source.objects.filter(slug=candidate).exists():
            return candidate


@transaction.atomic
@versioning.deferring
def import_source(
    capture,
    *,
    capture_name,
    treaty,
    title="",
    author="",
    outlet="",
    published_on=None,
    url="",
    language="en",
    notes="",
    slug="",
    link_state=ExcerptLink.State.PROPOSED,
):
    """Clean a capture, store it, and propose an excerpt link for every explicit reference it makes.

    Returns (source, report). Existing review decisions are never overwritten.
    """
    report = ImportReport()
    facts = clean_source_inputs(
        capture, capture_name=capture_name, title=title, author=author, outlet=outlet, url=url,
        language=language or "en", notes=notes,
    )
    capture_name = facts.pop("capture_name")
    paragraphs = clean_capture(facts["capture"], title=facts["title"] or None, author=facts["author"] or None)
    if not paragraphs:
        raise CorpusError(f"{capture_name}: no article text is left once the site chrome is removed.")
    body = body_from_paragraphs(paragraphs)

    existing = Source.objects.filter(capture_name=capture_name).first()
    if existing and existing.body != body:
        raise CorpusError(
            f"{capture_name}: a different capture with this name is already loaded; "
            "excerpts point into its text, so it is not replaced. Import the new capture under another name."
        )
    if existing:
        slug = existing.slug
    elif slug:
        slug = checked(rules.clean_text, slug, where=f"{capture_name}: ", field="slug",
                       max_length=rules.max_length_of(Source, "slug"))
        if Source.objects.filter(slug=slug).exists():
            raise CorpusError(f"{capture_name}: the slug {slug!r} belongs to another source already: choose another.")
    else:
        derived = slugify(f"{facts['author']} {published_on or ''} {facts['title'] or facts['outlet']}")
        slug = free_source_slug(derived or slugify(capture_name))
    facts |= {"slug": slug, "published_on": published_on, "body": body}
    created = existing is None
    source = existing or Source(capture_name=capture_name)
    # Saved only when something differs, so a rerun writes nothing and invalidates no page.
    changed = created or any(getattr(source, name) != value for name, value in facts.items())
    if changed:
        for name, value in facts.items():
            setattr(source, name, value)
        source.save()
    if changed and not created:
        report.updated["sources"] += 1
    else:
        report.count("sources", created)

    provisions = {p.slug: p for p in treaty.provisions.all()}
    article_count = max((p.number for p in provisions.values() if p.number), default=None)
    for start, end in paragraph_spans(body):
        paragraph = body[start:end]
        references = find_references(paragraph, article_count=article_count)
        linked = {}
        for reference in references:
            for provision_slug in reference.provisions:
                if provision_slug in provisions:
                    linked.setdefault(provision_slug, reference.text)
        if not linked:
            continue
        excerpt, created = get_or_create_excerpt(source, start, end)
        report.count("excerpts", created)
        for provision_slug, reference_text in linked.items():
            _, created = ExcerptLink.objects.get_or_create(
                excerpt=excerpt,
                provision=provisions[provision_slug],
                defaults={
                    "method": ExcerptLink.Method.EXPLICIT,
                    "reference": reference_text[:200],
                    "state": link_state,
                },
            )
            report.count("excerpt links", created)
    return source, report


def get_or_create_excerpt(source, start, end):
    """The excerpt for body[start:end]; a repeated paragraph maps to its first occurrence."""
    text = source.body[start:end]
    return Excerpt.objects.get_or_create(
        source=source, digest=text_digest(text), defaults={"start": start, "end": end, "text": text}
    )


# --- The shipped first corpus ---------------------------------------------------------------------


def read_corpus_manifest(corpus_dir):
    manifest_path = Path(corpus_dir) / "corpus.json"
    try:
        return json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CorpusError(f"{manifest_path} is missing.") from None
    except json.JSONDecodeError as error:
        raise CorpusError(f"{manifest_path}, line {error.lineno}: not valid JSON ({error.msg}).") from None


def read_capture(path, *, max_bytes=None):
    """The text of a UTF-8 file, line ends made \\n; a CorpusError names the file, line and column
    of the first thing in it that cannot be stored (bytes that are not UTF-8, such as an encoded
    lone surrogate, or a NUL character), or its size when it is larger than `max_bytes`."""
    try:
        size = Path(path).stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise CorpusError(f"{path}: the file is {size} bytes long; at most {max_bytes} are read.")
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise CorpusError(f"{path}: no such file.") from None
    except OSError as error:
        raise CorpusError(f"{path}: cannot be read ({error.strerror}).") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line_start = data.rfind(b"\n", 0, error.start) + 1
        line = data.count(b"\n", 0, error.start) + 1
        column = len(data[line_start : error.start].decode("utf-8", "replace")) + 1
        raise CorpusError(
            f"{path}, line {line}, column {column}: not UTF-8 text (byte {error.start}): save the file as UTF-8."
        ) from None
    # The universal newlines of a file opened as text, which the stored captures were read with.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if (bad := rules.find_bad_character(text)) is not None:
        raise CorpusError(f"{path}, line {bad.line}, column {bad.column}: the file contains {bad.name}; {bad.advice}.")
    return text


@transaction.atomic
@versioning.deferring
def load_corpus(corpus_dir=CORPUS_DIR):
    """Load the shipped treaty, its five commentaries, their excerpts and the quoted wording."""
    manifest = read_corpus_manifest(corpus_dir)
    report = ImportReport()
    treaty = load_treaty_facts(manifest["treaty"], report)
    provisions = load_provision_skeleton(treaty, manifest["treaty"]["article_count"], report)

    sources = {}
    for entry in manifest["sources"]:
        capture = read_capture(Path(corpus_dir) / entry["file"])
        source, source_report = import_source(
            capture,
            capture_name=entry["file"],
            treaty=treaty,
            slug=entry["slug"],
            title=entry["title"] or "",
            author=entry["author"] or "",
            outlet=entry["outlet"] or "",
            published_on=parse_date(entry["published"], what=f"{entry['file']}: published"),
            url=entry["url"] or "",
            language=entry["language"] or "en",
            notes=entry["notes"] or "",
            # The shipped links were checked by hand against the five commentaries.
            link_state=ExcerptLink.State.APPROVED,
        )
        report.merge(source_report)
        sources[entry["file"]] = source

    for entry in manifest["provisions"]:
        slug = entry.get("slug") or f"art-{entry['number']}"
        load_provision_wording(provisions[slug], entry, sources, report)

    for entry in manifest.get("implicit_links", []):
        load_implicit_link(entry, sources, provisions, report)
    for entry in manifest.get("cross_references", []):
        _, created = CrossReference.objects.get_or_create(
            provision=provisions[entry["provision"]],
            target=provisions[entry["target"]] if "target" in entry else None,
            external_label=entry.get("external_label", ""),
            # The relation only when the row is made: a curator's later choice in the admin stays.
            defaults={"note": entry.get("note", ""), "external_url": entry.get("external_url", ""),
                      "relation": entry.get("relation", CrossReference.Relation.COMPARE)},
        )
        report.count("cross-references", created)
    return report


def load_treaty_facts(facts, report):
    treaty, created = Treaty.objects.get_or_create(
        slug=facts["slug"],
        defaults={
            "title": facts["title"],
            "short_title": facts["short_title"],
            "parties": facts["parties"],
            "signed_on": parse_date(facts["signed_on"], what="treaty: signed_on"),
            "signed_at": facts["signed_at"],
            "in_force_on": parse_date(facts["in_force_on"], what="treaty: in_force_on"),
            "status": facts["status"],
            "notes": facts["notes"],
        },
    )
    report.count("treaties", created)
    return treaty


def load_provision_skeleton(treaty, article_count, report):
    """The preamble and articles 1..article_count, in reading order."""
    provisions = {}
    wanted = [("preamble", Provision.Kind.PREAMBLE, None)] + [
        (f"art-{n}", Provision.Kind.ARTICLE, n) for n in range(1, article_count + 1)
    ]
    for position, (slug, kind, number) in enumerate(wanted):
        provision, created = Provision.objects.get_or_create(
            treaty=treaty, slug=slug, defaults={"kind": kind, "number": number, "position": position}
        )
        report.count("provisions", created)
        provisions[slug] = provision
    return provisions


def locate_quote(source, quote, *, what):
    start = source.body.find(quote)
    if start < 0:
        raise CorpusError(f"{what}: the quoted passage is not in {source.capture_name}: “{quote[:80]}…”")
    return start, start + len(quote)


def load_provision_wording(provision, entry, sources, report):
    what = f"provision {provision.slug}"
    changed = False
    if not provision.heading and entry.get("heading"):
        provision.heading = entry["heading"]
        changed = True
    if not provision.summary and entry.get("summary"):
        provision.summary = entry["summary"]
        provision.summary_source = sources[entry["summary_source"]]
        changed = True

    passages = []
    for position, passage in enumerate(entry.get("passages", [])):
        source = sources[passage["source"]]
        start, end = locate_quote(source, passage["quote"], what=what)
        _, created = QuotedPassage.objects.get_or_create(
            provision=provision,
            position=position,
            defaults={"source": source, "text": passage["quote"], "source_start": start, "source_end": end},
        )
        report.count("quoted passages", created)
        passages.append(passage["quote"])

    # An imported official text outranks the commentators' quotations: never overwrite it.
    if provision.coverage != Provision.Coverage.FULL:
        coverage = entry["coverage"]
        text = "\n\n".join(passages) if coverage == Provision.Coverage.QUOTED else ""
        if (provision.coverage, provision.text) != (coverage, text):
            provision.coverage, provision.text = coverage, text
            changed = True
    if changed:
        save_wording(provision, reason="Shipped corpus loaded")
        report.updated["provisions"] += 1


def load_implicit_link(entry, sources, provisions, report):
    source = sources[entry["source"]]
    needle = entry["paragraph_containing"]
    for start, end in paragraph_spans(source.body):
        if needle in source.body[start:end]:
            break
    else:
        raise CorpusError(f"implicit link: no paragraph of {source.capture_name} contains “{needle}”.")
    excerpt, created = get_or_create_excerpt(source, start, end)
    report.count("excerpts", created)
    _, created = ExcerptLink.objects.get_or_create(
        excerpt=excerpt,
        provision=provisions[entry["provision"]],
        defaults={"method": ExcerptLink.Method.IMPLICIT, "state": ExcerptLink.State.APPROVED},
    )
    report.count("excerpt links", created)
