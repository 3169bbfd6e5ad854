"""Citations of what the public reader shows: a provision, an excerpt of commentary, an annotation.

Each is a `Citation` that says itself three ways: a line of plain text (shown on the pages), BibTeX
(``cite.bib``, for LaTeX with biblatex or BibTeX) and CSL-JSON (``cite.json``, the input of citeproc
processors: Zotero, Pandoc, Mendeley). Every citation names what it cites at a version (a provision's
wording version, an annotation's version; an excerpt has none: its words are its identity) and the
day the reader accessed it, which the page takes from `caching.access_date` (such pages are
`dated`, so no cache gives a reader another day's date).

Choices:

* BibTeX entries are ``@misc``, which every style knows, with biblatex's ``url``, ``urldate`` and
  ``version`` fields and, for classic BibTeX styles that ignore those, the same facts in ``note``.
  Text is written as UTF-8 with TeX's special characters escaped; titles are braced twice so that
  styles keep their capitals; names are braced as they are written (a username, a byline), never
  split into given and family names Glossa does not know.
* CSL-JSON is an array of one item, with only variables of the CSL 1.0.2 input schema. A provision
  is a ``treaty``, an annotation a ``post`` (a post on a website), an excerpt the ``webpage`` of
  the commentary it comes from; names are ``literal``.

treaty_app imports nothing of the annotations app: an annotation is read through its attributes
(pk, version, author, created_at, provision or excerpt, parent).
"""

import json
from dataclasses import dataclass
from datetime import date

from django.utils.dateformat import format as format_date

from .site import absolute_url

SITE_NAME = "Glossa"

BIBTEX_MEDIA_TYPE = "application/x-bibtex; charset=utf-8"
CSL_MEDIA_TYPE = "application/vnd.citationstyles.csl+json"

COVERAGE_NOTES = {
    "full": "",
    "quoted": "wording as quoted by commentators",
    "summary": "summary of what commentators say it covers",
    "none": "no wording held",
}

_BIBTEX_SPECIAL = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "#": r"\#", "$": r"\$", "%": r"\%", "&": r"\&",
    "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}
# In a url field the text is taken verbatim: only what would unbalance the braces is encoded.
_URL_SPECIAL = {"{": "%7B", "}": "%7D", "\\": "%5C"}


def day(value):
    """“19 June 2024”."""
    return format_date(value, "j F Y")


def bibtex_text(value):
    return "".join(_BIBTEX_SPECIAL.get(char, char) for char in value)


def bibtex_url(value):
    return "".join(_URL_SPECIAL.get(char, char) for char in value)


def _date_parts(value):
    return {"date-parts": [[value.year, value.month, value.day]]}


@dataclass(frozen=True)
class Citation:
    key: str  # the BibTeX key and the CSL id
    csl_type: str
    title: str
    url: str
    accessed: date
    text: str  # the plain-text line
    authors: tuple = ()
    issued: date | None = None
    version: str = ""
    container: str = SITE_NAME
    note: str = ""

    def bibtex(self):
        notes = [part for part in (self.note, f"version {self.version}" if self.version else "",
                                   f"accessed {day(self.accessed)}") if part]
        fields = [
            ("author", " and ".join(f"{{{bibtex_text(name)}}}" for name in self.authors)),
            ("title", f"{{{bibtex_text(self.title)}}}"),
            ("howpublished", bibtex_text(self.container)),
            ("date", self.issued.isoformat() if self.issued else ""),
            ("year", str(self.issued.year) if self.issued else ""),
            ("version", bibtex_text(self.version)),
            ("url", bibtex_url(self.url)),
            ("urldate", self.accessed.isoformat()),
            ("note", bibtex_text("; ".join(notes))),
        ]
        body = "".join(f"  {name} = {{{value}}},\n" for name, value in fields if value)
        return f"@misc{{{self.key},\n{body}}}\n"

    def csl(self):
        item = {
            "id": self.key,
            "type": self.csl_type,
            "title": self.title,
            "author": [{"literal": name} for name in self.authors],
            "container-title": self.container,
            "issued": _date_parts(self.issued) if self.issued else None,
            "version": self.version,
            "URL": self.url,
            "accessed": _date_parts(self.accessed),
            "note": self.note,
        }
        return [{name: value for name, value in item.items() if value}]

    def csl_json(self):
        return json.dumps(self.csl(), ensure_ascii=False, indent=2) + "\n"


def provision_citation(provision, *, accessed):
    """A provision of a treaty at its wording version (`provision.treaty` read)."""
    treaty = provision.treaty
    url = absolute_url(provision.get_absolute_url())
    signed = ""
    if treaty.signed_on:
        signed = f" ({treaty.signed_at or 'signed'}, {day(treaty.signed_on)})"
    coverage = COVERAGE_NOTES.get(provision.coverage, "")
    held = f" [{coverage}]" if coverage else ""
    version = str(provision.text_version)
    return Citation(
        key=f"glossa-{treaty.slug}-{provision.slug}-v{version}",
        csl_type="treaty",
        title=f"{treaty.title}, {provision.label}",
        url=url,
        accessed=accessed,
        issued=treaty.signed_on,
        version=version,
        note=coverage.capitalize(),
        text=(f"{treaty.title}{signed}, {provision.label}{held}. {SITE_NAME}, wording version {version}. "
              f"{url} (accessed {day(accessed)})."),
    )


def excerpt_citation(excerpt, *, accessed):
    """An excerpt of a commentary, as Glossa holds it (`excerpt.source` read)."""
    source = excerpt.source
    url = absolute_url(excerpt.get_absolute_url())
    original = source.web_url
    byline = ", ".join(part for part in (
        source.author or "Unknown author", f"“{source.display_title}”", source.outlet,
        day(source.published_on) if source.published_on else "undated",
    ) if part)
    return Citation(
        key=f"glossa-excerpt-{excerpt.pk}",
        csl_type="webpage",
        title=source.display_title,
        url=url,
        accessed=accessed,
        authors=(source.author,) if source.author else (),
        issued=source.published_on,
        container=source.outlet or SITE_NAME,
        note=f"Excerpt {excerpt.pk}, held by {SITE_NAME}" + (f"; original at {original}" if original else ""),
        text=(f"{byline}, excerpt {excerpt.pk}. {SITE_NAME}. {url} (accessed {day(accessed)})"
              + (f"; original at {original}." if original else ".")),
    )


def _target_label(annotation):
    if annotation.provision_id:
        return f"{annotation.provision.label}, {annotation.provision.treaty.short_title}"
    return f"an excerpt of ‘{annotation.excerpt.source.display_title}’"


def annotation_citation(annotation, *, accessed):
    """A published annotation or reply at its version. Reads its author and its target (a reply's:
    its parent's), with their treaty or source."""
    root = annotation.parent if annotation.parent_id else annotation
    page = root.provision.get_absolute_url() if root.provision_id else root.excerpt.source.get_absolute_url()
    url = absolute_url(f"{page}#annotation-{annotation.pk}")
    target = _target_label(root)
    title = (f"Reply {annotation.pk} to annotation {root.pk} on {target}" if annotation.parent_id
             else f"Annotation {annotation.pk} on {target}")
    author = annotation.author.get_username()
    version = str(annotation.version)
    created = annotation.created_at.date()
    return Citation(
        key=f"glossa-annotation-{annotation.pk}-v{version}",
        csl_type="post",
        title=title,
        url=url,
        accessed=accessed,
        authors=(author,),
        issued=created,
        version=version,
        text=(f"{author}, “{title}”, {SITE_NAME}, {day(created)}, version {version}. "
              f"{url} (accessed {day(accessed)})."),
    )
