"""Small helpers that make corpus rows for tests."""

import itertools

from treaty_app.models import Excerpt, ExcerptLink, Provision, Source, Treaty

_counter = itertools.count(1)


def make_treaty(**fields):
    n = next(_counter)
    defaults = {
        "slug": f"treaty-{n}",
        "title": f"Treaty number {n}",
        "short_title": f"Treaty {n}",
        "parties": "Party A; Party B",
    }
    return Treaty.objects.create(**(defaults | fields))


def make_provision(treaty=None, *, number=None, text="", **fields):
    treaty = treaty or make_treaty()
    if number is None:
        defaults = {"kind": Provision.Kind.PREAMBLE, "slug": "preamble", "position": 0}
    else:
        defaults = {"kind": Provision.Kind.ARTICLE, "slug": f"art-{number}", "position": number}
    defaults |= {"coverage": Provision.Coverage.QUOTED if text else Provision.Coverage.NONE}
    return Provision.objects.create(treaty=treaty, number=number, text=text, **(defaults | fields))


def make_source(body="A commentary.\n\nIt has two paragraphs.", **fields):
    n = next(_counter)
    defaults = {
        "slug": f"source-{n}",
        "title": f"Commentary {n}",
        "author": "A. Writer",
        "outlet": "An Outlet",
        "capture_name": f"capture-{n}.txt",
        "capture": body,
    }
    return Source.objects.create(body=body, **(defaults | fields))


def make_excerpt(source, start, end):
    return Excerpt.objects.create(source=source, start=start, end=end, text=source.body[start:end])


def link(excerpt, provision, *, state=ExcerptLink.State.APPROVED, method=ExcerptLink.Method.IMPLICIT, **fields):
    return ExcerptLink.objects.create(excerpt=excerpt, provision=provision, state=state, method=method, **fields)
