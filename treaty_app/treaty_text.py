"""Official treaty texts in Glossa's plain-text format: read one, check which treaty it is, import it.

The format (README, "Treaty text format"): the treaty's title first, optional header lines
(``Short title:``, ``Parties:``, ``Signed on:``, ``Signed at:``, ``In force:``, ``Slug:``), then a
``Preamble`` line and ``Article N`` headings with the wording under each.

The file's title names its treaty. Without ``--treaty`` the import goes only into the treaty whose
title (or short title) it carries, and stops otherwise; with ``--treaty SLUG`` it goes into that
treaty and says so when the title differs. ``--new`` creates the treaty from the file, and
``--dry-run`` shows what would change, and where each annotation would be placed, and writes
nothing.
"""

import datetime
import re
import unicodedata
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import OperationalError, connection, transaction
from django.utils.text import slugify

from . import rules, versioning
from .importing import CorpusError, ImportReport, checked
from .models import LanguageVersion, Provision, Treaty, language_name
from .wording import save_wording

# Headings in English, Russian and Korean: "Preamble", "Преамбула", "전문"; "Article 4", "Статья 4",
# "제4조" (a Korean heading may follow in parentheses: "제4조 (상호 원조)").
PREAMBLE_HEADING = re.compile(r"^\s*(?:preamble|преамбула|전문)\s*$", re.IGNORECASE)
ARTICLE_HEADING = re.compile(
    r"^\s*(?:(?:article|статья)\s+(?P<number>\d+)|제\s*(?P<korean>\d+)\s*조)"
    r"\s*(?:[.:—–-]\s*(?P<heading>\S.*?)|\((?P<bracketed>[^)]*)\))?\s*$",
    re.IGNORECASE,
)
# The article numbers a provision can hold (its number and position are small integers).
ARTICLE_NUMBERS = (1, rules.integer_bounds(Provision._meta.get_field("number"))[1])
HEADER_LINE = re.compile(
    r"^\s*(?P<key>short title|parties|signed on|signed at|in force|slug)\s*:\s*(?P<value>.*?)\s*$", re.IGNORECASE
)

# How long an import waits for the rows it must lock before it gives up (and changes nothing).
LOCK_TIMEOUT = 5
# The largest file import_treaty reads, in either format: a treaty's text is well under a megabyte.
MAX_FILE_BYTES = 10 * 2**20


@dataclass
class ParsedProvision:
    slug: str
    line: int
    heading: str = ""
    lines: list[str] = field(default_factory=list)

    @property
    def text(self):
        """Paragraphs separated by one blank line; hard-wrapped lines joined with a space."""
        paragraphs, current = [], []
        for line in self.lines + [""]:
            if line.strip():
                current.append(" ".join(line.split()))
            elif current:
                paragraphs.append(" ".join(current))
                current = []
        return "\n\n".join(paragraphs)

    @property
    def number(self):
        return None if self.slug == "preamble" else int(self.slug.removeprefix("art-"))

    @classmethod
    def from_paragraphs(cls, slug, *, line, heading="", paragraphs=()):
        """A provision read from another format (akn_reading.py), one line per paragraph.

        Only such a provision can have no wording: the text format refuses a heading without any."""
        lines = [part for paragraph in paragraphs for part in (paragraph, "")]
        return cls(slug=slug, line=line, heading=heading, lines=lines)


@dataclass
class TreatyText:
    """A parsed file: its title, header facts ({key: (value, line)}) and provisions in file order."""

    title: str
    facts: dict
    provisions: list


def parse_treaty_text(text):
    """Split an official text into its title, header lines and provisions (see the module docstring)."""
    parsed, seen, current = [], {}, None
    title_lines, facts = [], {}
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        if line.lstrip().startswith("#"):
            continue
        if PREAMBLE_HEADING.match(line):
            current = ParsedProvision(slug="preamble", line=number)
        elif match := ARTICLE_HEADING.match(line):
            # A heading with a number no article can have is refused, not read as wording of the last one.
            article = checked(rules.clean_integer, match["number"] or match["korean"], where=f"line {number}: ",
                              field="the article number", minimum=ARTICLE_NUMBERS[0], maximum=ARTICLE_NUMBERS[1])
            heading = match["heading"] or match["bracketed"] or ""
            current = ParsedProvision(slug=f"art-{article}", line=number, heading=heading.strip())
        elif current is None:
            if header := HEADER_LINE.match(line):
                facts[header["key"].lower()] = (header["value"], number)
            elif line.strip() and not facts:
                title_lines.append(line.strip())
            continue
        else:
            current.lines.append(line)
            continue
        if current.slug in seen:
            raise CorpusError(
                f"line {number}: {current.slug} appears a second time (first at line {seen[current.slug]})."
            )
        seen[current.slug] = number
        parsed.append(current)
    if not parsed:
        raise CorpusError("no “Preamble” or “Article N” heading found: see the treaty text format in the README.")
    for provision in parsed:
        if not provision.text:
            raise CorpusError(f"line {provision.line}: {provision.slug} has no wording under its heading.")
    return TreatyText(title=" ".join(" ".join(title_lines).split()), facts=facts, provisions=parsed)


def parse_official_text(text):
    """A TreatyText from either format import_treaty reads: Akoma Ntoso XML (a text whose first
    character other than white space is ``<``), or else the plain-text format."""
    # akn_reading builds on this module's classes, so it is imported when needed.
    from .akn_reading import looks_like_xml, parse_akoma_ntoso

    return parse_akoma_ntoso(text) if looks_like_xml(text) else parse_treaty_text(text)


def check_language(parsed, language):
    """Refuse an Akoma Ntoso expression in another language than `language` (a BCP 47 tag), the
    language of the wording being imported; a text file says nothing of its language."""
    from .akn_reading import ISO_639_2

    declared, line = parsed.facts.get("language", ("", None))
    wanted = ISO_639_2.get(language.split("-")[0].lower())
    if declared and wanted and not set(declared.split()) & wanted:
        raise CorpusError(
            f"line {line}: the document's language is {rules.shown(declared)}, not that of the wording imported, "
            f"{language_name(language)} ({'/'.join(sorted(wanted))}): import it as that language version with "
            "--language."
        )


def _comparable(title):
    title = unicodedata.normalize("NFKC", title).replace("’", "'").replace("‘", "'")
    return " ".join(title.casefold().split())


def names(treaty, title):
    """Whether `title` is the treaty's title or short title (case, spacing and quote marks aside)."""
    return _comparable(title) in {_comparable(treaty.title), _comparable(treaty.short_title)}


def choose_treaty(parsed, *, slug=None):
    """The treaty a file goes into: `slug`'s when given, else the one its title names.

    Returns (treaty, note or None). Stops with CorpusError rather than guess."""
    if slug:
        # A lone surrogate cannot be sent to the database, and PostgreSQL refuses a NUL.
        slug = checked(rules.clean_text, slug, field="the treaty slug", max_length=rules.max_length_of(Treaty, "slug"))
        treaty = Treaty.objects.filter(slug=slug).first()
        if treaty is None:
            raise CorpusError(f"there is no treaty with the slug {slug!r}.")
        if parsed.title and not names(treaty, parsed.title):
            return treaty, (
                f"The file's title “{parsed.title[:120]}” is not that of {treaty.short_title}; "
                f"imported into it because --treaty {slug} was given."
            )
        return treaty, None
    if not parsed.title:
        raise CorpusError(
            "the file does not name its treaty: start it with the treaty's title (see the README), "
            "or say which treaty with --treaty SLUG."
        )
    matching = [treaty for treaty in Treaty.objects.all() if names(treaty, parsed.title)]
    if len(matching) == 1:
        return matching[0], None
    if not matching:
        known = "; ".join(f"{t.slug} ({t.short_title})" for t in Treaty.objects.all()) or "none yet"
        raise CorpusError(
            f"the file's title “{parsed.title[:120]}” is not the title of any treaty here (treaties: {known}). "
            "Import it into one with --treaty SLUG, or create it with --new."
        )
    raise CorpusError(f"several treaties have the title “{parsed.title[:120]}”: say which with --treaty SLUG.")


class _DryRun(Exception):
    """Raised to roll an import back once its report is made."""

    def __init__(self, report):
        super().__init__("dry run")
        self.report = report


def import_treaty(text, *, treaty, by=None, dry_run=False, parsed=None, language=None,
                  status=LanguageVersion.Status.AUTHENTIC, source=""):
    """Replace the wording of the provisions the text holds, marking them `full`, and place every
    annotation on them again (see wording.save_wording).

    With a `language` other than the treaty's, the text is that language version of each provision
    it holds (created, or its wording replaced), with its `status` and `source`.

    One transaction. It locks the treaty's provisions (in key order, then their annotations, then
    the content versions: the order every write takes, so it cannot deadlock with an analyst's
    save) and gives up, changing nothing, when a lock is not free within LOCK_TIMEOUT seconds. With
    `dry_run` it does all of that, reports, and rolls back: the report is exactly what an import
    would do, and nothing is written."""
    parsed = parsed or parse_official_text(text)
    check_language(parsed, language or treaty.language)
    report = ImportReport()
    try:
        with transaction.atomic(), versioning.deferred():
            _limit_lock_waits()
            provisions = {p.slug: p for p in treaty.provisions.order_by("pk").select_for_update()}
            for item in parsed.provisions:
                provision = provisions.get(item.slug)
                if provision is None:
                    raise CorpusError(f"line {item.line}: {treaty.short_title} has no provision {item.slug}.")
                if not item.text:
                    # An Akoma Ntoso article with no wording: the wording held stays as it is.
                    report.unchanged["provisions"] += 1
                    if dry_run:
                        report.notes.append(f"{provision}: the file holds no wording of it; left as it is.")
                    continue
                if language and language != treaty.language:
                    _import_version(provision, item, language=language, status=status, source=source,
                                    by=by, dry_run=dry_run, report=report)
                    continue
                if provision.text == item.text and provision.coverage == Provision.Coverage.FULL:
                    report.unchanged["provisions"] += 1
                    if dry_run:
                        report.notes.append(f"{provision}: unchanged.")
                    continue
                provision.text = item.text
                provision.coverage = Provision.Coverage.FULL
                if item.heading:
                    provision.heading = item.heading[:200]
                change = save_wording(provision, by=by, reason="Official text imported")
                report.updated["provisions"] += 1
                if change.placements or dry_run:
                    report.notes.append(change.summary(dry_run=dry_run))
                if dry_run:
                    report.notes.extend(f"  {move}" for move in change.moves)
            if dry_run:
                raise _DryRun(report)
    except _DryRun:
        report.notes.append("Dry run: nothing was written.")
    except OperationalError as error:
        if not _is_lock_timeout(error):
            raise
        raise CorpusError(
            "other people are saving annotations on this treaty right now and their changes did not finish "
            f"within {LOCK_TIMEOUT} seconds; nothing was imported. Try again in a moment."
        ) from None
    return report


def _import_version(provision, item, *, language, status, source, by, dry_run, report):
    """One provision's wording in `language`, created or replaced through save_wording."""
    version = LanguageVersion.objects.select_for_update().filter(provision=provision, language=language).first()
    if version is None:
        LanguageVersion.objects.create(provision=provision, language=language, status=status, source=source[:300],
                                       text=item.text)
        report.created["language versions"] += 1
        report.notes.append(f"{provision} ({language}): new language version.")
        return
    if (version.text, version.status, version.source) == (item.text, status, source[:300] or version.source):
        report.unchanged["language versions"] += 1
        return
    version.text, version.status, version.source = item.text, status, source[:300] or version.source
    change = save_wording(version, by=by, reason=f"Official text imported ({language})")
    report.updated["language versions"] += 1
    if change.placements or dry_run:
        report.notes.append(change.summary(dry_run=dry_run))
    if dry_run:
        report.notes.extend(f"  {move}" for move in change.moves)


def create_treaty(text=None, *, parsed=None, slug=None, by=None, dry_run=False):
    """A new treaty from a file (--new): its facts from the title and header lines, its provisions
    (in reading order: the preamble, then the articles by number) from the headings. Returns
    (treaty, report)."""
    parsed = parsed or parse_official_text(text)
    check_language(parsed, Treaty._meta.get_field("language").default)
    if not parsed.title:
        raise CorpusError("the file does not start with the treaty's title, which a new treaty needs.")
    facts = {key: value for key, (value, _) in parsed.facts.items()}
    short_title = facts.get("short title") or parsed.title[:120]
    slug = slug or facts.get("slug") or slugify(re.sub(r"[–—]", "-", short_title))[:50].strip("-")
    if not slug:
        raise CorpusError("no slug could be made from the title: give one with --treaty SLUG or a “Slug:” line.")
    # The slug is the treaty's part of every URL of its pages (<slug:treaty_slug>).
    slug = checked(rules.clean_text, slug, field="the treaty slug", max_length=rules.max_length_of(Treaty, "slug"))
    try:
        validate_slug(slug)
    except ValidationError:
        raise CorpusError(
            f"the slug {slug!r} cannot name a treaty in its web addresses: use only the letters a-z and A-Z, "
            "digits, hyphens and underscores."
        ) from None
    if Treaty.objects.filter(slug=slug).exists():
        raise CorpusError(f"a treaty with the slug {slug!r} exists already: import into it with --treaty {slug}.")
    matching = [treaty.slug for treaty in Treaty.objects.all() if names(treaty, parsed.title)]
    if matching:
        raise CorpusError(f"the treaty “{parsed.title[:120]}” is here already ({matching[0]}): import without --new.")
    fields = {
        "slug": slug, "title": parsed.title[:300], "short_title": short_title[:120],
        "parties": facts.get("parties", "")[:300], "signed_at": facts.get("signed at", "")[:120],
        "signed_on": _date(parsed.facts.get("signed on")), "in_force_on": _date(parsed.facts.get("in force")),
    }
    report = ImportReport()
    try:
        with transaction.atomic(), versioning.deferred():
            treaty = Treaty.objects.create(**fields)
            for item in parsed.provisions:
                number = item.number
                Provision.objects.create(
                    treaty=treaty, slug=item.slug, number=number, position=number or 0,
                    kind=Provision.Kind.PREAMBLE if number is None else Provision.Kind.ARTICLE,
                    heading=item.heading[:200], text=item.text,
                    coverage=Provision.Coverage.FULL if item.text else Provision.Coverage.NONE,
                )
                report.created["provisions"] += 1
            report.created["treaties"] += 1
            report.notes.append(f"Created {treaty.short_title} ({slug}) with {len(parsed.provisions)} provisions.")
            if dry_run:
                raise _DryRun(report)
    except _DryRun:
        report.notes.append("Dry run: nothing was written.")
        return None, report
    return treaty, report


def _date(fact):
    if fact is None:
        return None
    value, line = fact
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CorpusError(f"line {line}: {value!r} is not a date in the form YYYY-MM-DD.") from None


def _limit_lock_waits():
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{int(LOCK_TIMEOUT)}s'")


def _is_lock_timeout(error):
    # PostgreSQL's lock_not_available; SQLite's "database is locked" after its busy timeout.
    code = getattr(getattr(error, "__cause__", None), "sqlstate", None)
    return code == "55P03" or "database is locked" in str(error)
